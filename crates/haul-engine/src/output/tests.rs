//! `PartFile` on a real folder: create, write, keep, resume, commit, and what is left behind.
use super::*;

#[test]
fn commit_hashes_verifies_and_renames() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let names = Arc::new(Names::default());
    let mut part = PartFile::create(&names, dir.path(), "a.txt", false)?;
    assert!(dir.path().join("a.txt.part").exists());
    part.write(b"abc")?;
    let done = part.commit(Some(3))?;
    assert_eq!(done.path, dir.path().join("a.txt"));
    assert_eq!(
        done.sha256.to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(!dir.path().join("a.txt.part").exists());
    assert_eq!(fs::read(&done.path).ok().as_deref(), Some(&b"abc"[..]));
    Ok(())
}

/// Windows' classic limit is 260 characters for a whole path. Rust's standard library
/// (which every file operation here goes through, also behind tokio) turns long absolute
/// paths into `\\?\` paths itself, so deep destinations work without the system-wide
/// long-path setting. This runs on every platform; on Windows it proves the point.
#[test]
fn a_destination_path_longer_than_260_characters_works() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let mut dest = dir.path().to_path_buf();
    for i in 0..5 {
        dest.push(format!("{i}-{}", "深层文件夹".repeat(10)));
    }
    let names = Arc::new(Names::default());
    let name = format!("{}.bin", "长名字".repeat(60));
    let mut part = PartFile::create(&names, &dest, &name, false)?;
    let path_chars = part.part_path().to_string_lossy().chars().count();
    assert!(path_chars > 300, "only {path_chars} characters");
    part.attach_sidecar(Sidecar::new("https://h/x.bin", &name))?;
    part.write(b"first half, ")?;
    let kept = part.keep()?;
    let sidecar = resume::read(&kept).ok_or_else(|| closed_error(&kept))?;
    let mut part = PartFile::resume(&names, &kept, sidecar, false)
        .map_err(|e| write_error(&kept, &std::io::Error::other(format!("{e:?}"))))?;
    part.write(b"second half")?;
    let done = part.commit(Some(23))?;
    assert_eq!(done.path.parent(), Some(dest.as_path()));
    assert_eq!(
        fs::read(&done.path).ok().as_deref(),
        Some(&b"first half, second half"[..])
    );
    let left: Vec<_> = fs::read_dir(&dest)
        .map_err(|e| write_error(&dest, &e))?
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "no .part or sidecar left: {left:?}");
    Ok(())
}

#[test]
fn short_length_fails_and_leaves_nothing() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let names = Arc::new(Names::default());
    let mut part = PartFile::create(&names, dir.path(), "a.txt", false)?;
    part.write(b"ab")?;
    let err = part.commit(Some(3));
    assert_eq!(
        err,
        Err(FetchError::ShortBody {
            expected: 3,
            received: 2
        })
    );
    assert_eq!(fs::read_dir(dir.path()).map(Iterator::count).ok(), Some(0));
    Ok(())
}

#[test]
fn never_overwrites_and_never_reuses_a_name() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    fs::write(dir.path().join("a.txt"), b"mine").map_err(|e| write_error(dir.path(), &e))?;
    let names = Arc::new(Names::default());
    let first = PartFile::create(&names, dir.path(), "a.txt", false)?;
    let second = PartFile::create(&names, dir.path(), "a.txt", false)?;
    assert_eq!(first.file_name(), "a (1).txt");
    assert_eq!(second.file_name(), "a (2).txt");
    // A file appearing under our name before commit is not clobbered either.
    fs::write(dir.path().join("a (1).txt"), b"theirs").map_err(|e| write_error(dir.path(), &e))?;
    let done = first.commit(None)?;
    assert_eq!(done.path, dir.path().join("a (3).txt"));
    assert_eq!(
        fs::read(dir.path().join("a.txt")).ok().as_deref(),
        Some(&b"mine"[..])
    );
    assert_eq!(
        fs::read(dir.path().join("a (1).txt")).ok().as_deref(),
        Some(&b"theirs"[..])
    );
    drop(second);
    assert!(!dir.path().join("a (2).txt.part").exists());
    Ok(())
}

#[test]
fn overwrite_replaces_but_not_within_one_batch() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    fs::write(dir.path().join("a.txt"), b"old").map_err(|e| write_error(dir.path(), &e))?;
    let names = Arc::new(Names::default());
    let mut first = PartFile::create(&names, dir.path(), "a.txt", true)?;
    first.write(b"new")?;
    let done = first.commit(None)?;
    assert_eq!(done.path, dir.path().join("a.txt"));
    assert_eq!(fs::read(&done.path).ok().as_deref(), Some(&b"new"[..]));
    let second = PartFile::create(&names, dir.path(), "a.txt", true)?;
    assert_eq!(second.file_name(), "a (1).txt");
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_symlink_in_the_way_is_not_followed() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let victim = dir.path().join("victim");
    fs::write(&victim, b"keep").map_err(|e| write_error(dir.path(), &e))?;
    std::os::unix::fs::symlink(&victim, dir.path().join("a.txt.part"))
        .map_err(|e| write_error(dir.path(), &e))?;
    let names = Arc::new(Names::default());
    let mut part = PartFile::create(&names, dir.path(), "a.txt", true)?;
    assert_eq!(part.file_name(), "a (1).txt");
    part.write(b"x")?;
    drop(part);
    assert_eq!(fs::read(&victim).ok().as_deref(), Some(&b"keep"[..]));
    Ok(())
}

/// A replace that fails (on Windows: the target open in another program, or read-only; here:
/// a folder stands in the way) keeps the verified download and says where it is.
#[test]
fn a_failed_replace_keeps_the_complete_download() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let blocker = dir.path().join("a.txt");
    fs::create_dir(&blocker).map_err(|e| write_error(dir.path(), &e))?;
    fs::write(blocker.join("inside"), b"x").map_err(|e| write_error(dir.path(), &e))?;
    let names = Arc::new(Names::default());
    let mut part = PartFile::create(&names, dir.path(), "a.txt", true)?;
    part.attach_sidecar(Sidecar::new("https://h/a.txt", "a.txt"))?;
    part.write(b"every byte")?;
    let error = part.commit(Some(10));
    let Err(FetchError::Write { message, .. }) = &error else {
        panic!("the replace must fail: {error:?}");
    };
    let kept = dir.path().join("a.txt.part");
    assert!(
        message.ends_with(&format!(
            "the complete download is kept in {}",
            kept.display()
        )),
        "{message}"
    );
    assert_eq!(
        fs::read(dir.path().join("a.txt.part")).ok().as_deref(),
        Some(&b"every byte"[..])
    );
    let sidecar =
        resume::read(&dir.path().join("a.txt.part")).ok_or_else(|| closed_error(dir.path()))?;
    assert_eq!(sidecar.written, 10, "resumable: every byte recorded");
    Ok(())
}

/// The lock: a part being written cannot be resumed by anyone else; once let go, it can.
#[test]
fn a_part_in_use_is_locked_and_free_again_once_kept() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let names = Arc::new(Names::default());
    let mut part = PartFile::create(&names, dir.path(), "b.bin", false)?;
    part.attach_sidecar(Sidecar::new("https://h/b.bin", "b.bin"))?;
    part.write(b"some bytes")?;
    let path = dir.path().join("b.bin.part");
    let sidecar = resume::read(&path).ok_or_else(|| closed_error(&path))?;
    let other = Arc::new(Names::default());
    assert_eq!(
        PartFile::resume(&other, &path, sidecar.clone(), false).err(),
        Some(ResumeError::Locked)
    );
    part.keep()?;
    let sidecar = resume::read(&path).ok_or_else(|| closed_error(&path))?;
    let again = PartFile::resume(&other, &path, sidecar.clone(), false);
    assert!(again.is_ok(), "{:?}", again.as_ref().err());
    if let Ok(again) = again {
        again.keep()?;
    }
    fs::remove_file(resume::sidecar_path(&path)).map_err(|e| write_error(&path, &e))?;
    assert_eq!(
        PartFile::resume(&other, &path, sidecar, false).err(),
        Some(ResumeError::Gone),
        "without its sidecar it is no longer a part"
    );
    Ok(())
}

/// A file another program wrote (ffmpeg's remux) is moved over an empty part, hashed where it
/// lies and committed: no copy is left where it was, the digest is of its bytes, and a part
/// that has bytes already takes none.
#[test]
fn a_part_takes_a_whole_file_another_program_wrote() -> Result<(), FetchError> {
    let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
    let names = Arc::new(Names::default());
    let made = dir.path().join("merged.mp4");
    fs::write(&made, b"abc").map_err(|e| write_error(&made, &e))?;
    let mut part = PartFile::create(&names, dir.path(), "v.mp4", false)?;
    part.take_file(&made)?;
    assert!(!made.exists(), "moved, not copied");
    assert_eq!(part.written(), 3);
    let done = part.commit(Some(3))?;
    assert_eq!(done.path, dir.path().join("v.mp4"));
    assert_eq!(
        done.sha256.to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(!dir.path().join("v.mp4.part").exists());

    fs::write(&made, b"abc").map_err(|e| write_error(&made, &e))?;
    let mut part = PartFile::create(&names, dir.path(), "w.mp4", false)?;
    part.write(b"x")?;
    assert!(part.take_file(&made).is_err());
    assert!(made.exists(), "left as it was");
    Ok(())
}

/// A path stays inside the destination only through real folders: a link a person or
/// program put there (to a folder, or as the file itself) leads out, and is refused; the
/// destination itself may be a link.
#[cfg(all(unix, feature = "torrent"))]
#[test]
fn a_link_inside_the_destination_leads_out_of_it() {
    use std::os::unix::fs::symlink;
    let root = tempfile::tempdir().expect("tempdir");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    let real = root.path().join("real");
    std::fs::create_dir_all(real.join("set/sub")).expect("dest");
    let dest = root.path().join("dest");
    symlink(&real, &dest).expect("the destination a link");
    let inside = |p: &str| super::tree::inside(&dest, &dest.join(p));
    assert!(inside("set/sub/c.bin"), "real folders, nothing there yet");
    assert!(inside("new/deeper/c.bin"), "folders to be made");
    symlink(&outside, real.join("set/linked")).expect("a folder link");
    assert!(!inside("set/linked/c.bin"));
    symlink(outside.join("x.bin"), real.join("set/sub/x.bin")).expect("a file link");
    assert!(!inside("set/sub/x.bin"));
    std::fs::write(real.join("set/file"), b"x").expect("a file");
    assert!(!inside("set/file/c.bin"), "a file where a folder must be");
    assert!(
        !super::tree::inside(&dest, &root.path().join("x")),
        "not below"
    );
    assert!(!inside("set/../../x"), "no climbing");
}
