// The executables' icon, shared by the window's and the CLI's build scripts (`include!`d:
// build scripts cannot share a module). `ROOT` is the workspace root, relative to the
// including package.
/// The executables' icon on Windows (Explorer, shortcuts, the taskbar before the window sets
/// its own): the installer's `.ico` as a Windows resource, compiled by the Windows SDK's
/// resource compiler (`winresource`). Built on Windows for Windows only; without a resource
/// compiler the build goes on and says so.
#[cfg(windows)]
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

#[cfg(not(windows))]
fn windows_icon() {}

