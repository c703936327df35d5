//! Build script of `haul-cli`: the executable's icon on Windows.

const ROOT: &str = "../..";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../build/windows_icon.rs");
    windows_icon();
}

include!("../../build/windows_icon.rs");
