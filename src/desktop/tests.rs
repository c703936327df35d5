//! The desktop wing's own tests: the data folder made private, folders walked in order.

use super::*;

#[cfg(unix)]
#[test]
fn the_data_folder_is_made_private() -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("haul");
    std::fs::create_dir(&data)?;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755))?;
    make_private(&data);
    assert_eq!(
        std::fs::metadata(&data)?.permissions().mode() & 0o777,
        0o700
    );
    make_private(&dir.path().join("new")); // created when missing
    assert!(dir.path().join("new").is_dir());
    Ok(())
}

#[test]
fn expanding_walks_folders_in_order_and_keeps_files() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("drop");
    std::fs::create_dir_all(root.join("b/inner"))?;
    std::fs::create_dir_all(root.join("a"))?;
    std::fs::write(root.join("z.txt"), "z")?;
    std::fs::write(root.join("a/1.bin"), "1")?;
    std::fs::write(root.join("b/inner/报告.pdf"), "2")?;
    let loose = dir.path().join("loose.txt");
    std::fs::write(&loose, "x")?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&root, root.join("a/loop"))?;

    let missing_path = dir.path().join("example.org/x.zip");
    let Reply::Expanded {
        files,
        guessed,
        missing,
        errors,
        folders,
        ..
    } = expand(
        vec![
            Candidate {
                sha256: Checksum::from_hex(&"ab".repeat(32)),
                ..Candidate::path(loose.clone())
            },
            Candidate::path(root.clone()),
            Candidate {
                guess: crate::sources::guess_url("example.org/x.zip"),
                ..Candidate::path(missing_path.clone())
            },
            Candidate::path(dir.path().join("Hi team,")),
        ],
        AddContext::default(),
    )
    else {
        panic!("expand answers with Expanded");
    };
    let paths: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    assert_eq!(
        paths,
        vec![
            loose.as_path(),
            &root.join("z.txt"),
            &root.join("a/1.bin"),
            &root.join("b/inner/报告.pdf"),
        ]
    );
    assert_eq!(
        files[0].sha256,
        Checksum::from_hex(&"ab".repeat(32)),
        "a file keeps its checksum"
    );
    assert!(files[1..].iter().all(|f| f.sha256.is_none()));
    assert!(errors.is_empty());
    assert_eq!(folders, vec![(root, 3)]);
    assert_eq!(
        guessed
            .iter()
            .map(|(_, url)| url.to_string())
            .collect::<Vec<_>>(),
        ["https://example.org/x.zip"],
        "no such path: read as the web address it looks like"
    );
    assert_eq!(missing.len(), 1, "names nothing and looks like no address");
    Ok(())
}

/// Issue 28 (the probe): a first start with no Downloads folder in the system's list (Linux
/// without xdg-user-dirs) offered the working folder as Save to: `~/Downloads` instead.
#[test]
fn the_first_save_to_is_a_downloads_folder() {
    let cwd = Path::new("/");
    let home = Path::new("/home/li");
    assert_eq!(
        downloads_folder(None, Some(home), cwd),
        Path::new("/home/li/Downloads")
    );
    assert_eq!(
        downloads_folder(Some(Path::new("/home/li/下载")), Some(home), cwd),
        Path::new("/home/li/下载")
    );
    assert_eq!(downloads_folder(None, None, cwd), cwd);
}
