// The executables' icon, shared by the window's and the CLI's build scripts (`include!`d:
// build scripts cannot share a module). `ROOT` is the workspace root, relative to the
// including package.
/// The executables' icon on Windows (Explorer, shortcuts, the taskbar before the window sets
/// its own): the installer's `.ico` as a Windows resource, compiled by the resource compiler
/// (`winresource`: the Windows SDK's `rc.exe`, or MinGW's `windres` when cross-building).
/// Decided by the target's OS (`CARGO_CFG_TARGET_OS`), not the host's: a build script runs on
/// the host, so `cfg(windows)` here left cross-built executables without their icon. Without
/// a resource compiler the build goes on and says so.
fn windows_icon() {
    println!("cargo:rerun-if-changed={ROOT}/assets/icon.ico");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let mut resource = winresource::WindowsResource::new();
    resource.set_icon(&format!("{ROOT}/assets/icon.ico"));
    if let Err(e) = resource.compile() {
        println!("cargo:warning=the executables get no icon: {e}");
    }
}
