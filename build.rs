//! Build script of the window package: the executable's icon on Windows (the git commit for
//! `--version` is recorded by `haul-core`'s build script).

const ROOT: &str = ".";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/windows_icon.rs");
    windows_icon();
}

include!("build/windows_icon.rs");
