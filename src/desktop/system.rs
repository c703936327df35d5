//! The few system calls the window makes itself on Windows, each with its stand-in elsewhere:
//! starting a helper program (`reg.exe`, `shutdown.exe`) without a console window, Sleep
//! through powrprof's `SetSuspendState`, and the current user's SID for the instance pipe's
//! owner-only access.
//! Owns: the unsafe calls and their error texts. Must not touch: what the calls are for
//! (power, autostart and instance decide that).

use std::process::Command;

/// `CREATE_NO_WINDOW`: a console program started from the window (which has no console)
/// would otherwise flash a console window of its own.
pub fn no_console_window(command: &mut Command) -> &mut Command {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        command.creation_flags(windows_sys::Win32::System::Threading::CREATE_NO_WINDOW);
    }
    command
}

/// Puts Windows to sleep: `SetSuspendState(FALSE, FALSE, FALSE)` (suspend, not hibernate;
/// not forced; wake events kept). Returns once the machine has woken again.
#[cfg(windows)]
pub fn suspend() -> Result<(), String> {
    // SAFETY: a call with three plain booleans.
    let slept = unsafe { windows_sys::Win32::System::Power::SetSuspendState(false, false, false) };
    if slept {
        Ok(())
    } else {
        Err(format!(
            "Windows refused to sleep: {}",
            std::io::Error::last_os_error()
        ))
    }
}

#[cfg(not(windows))]
pub fn suspend() -> Result<(), String> {
    Err("suspending directly is Windows' way; this system sleeps through a program".to_owned())
}

/// The current user's SID as text (`S-1-5-21-…`), from the process token.
#[cfg(windows)]
pub fn current_user_sid() -> std::io::Result<String> {
    use std::io::Error;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, LocalFree};
    use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
    use windows_sys::Win32::Security::{GetTokenInformation, TOKEN_QUERY, TOKEN_USER, TokenUser};
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: the pseudo-handle of this process, and an out-pointer to a handle.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(Error::last_os_error());
    }
    // TOKEN_USER and the SID it points into; 256 bytes hold any SID (at most 68) with room.
    let mut buffer = vec![0u64; 32];
    let mut needed = 0u32;
    let size = u32::try_from(buffer.len() * 8).map_err(Error::other)?;
    // SAFETY: `buffer` is 8-byte aligned and `size` bytes long, as TOKEN_USER needs.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenUser,
            buffer.as_mut_ptr().cast(),
            size,
            &mut needed,
        )
    };
    let error = Error::last_os_error();
    // SAFETY: the token opened above, closed once.
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return Err(error);
    }
    // SAFETY: GetTokenInformation filled the buffer with a TOKEN_USER.
    let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` points into `buffer`, alive here; the string is allocated by the call.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(Error::last_os_error());
    }
    // SAFETY: a NUL-terminated string from ConvertSidToStringSidW, read before it is freed.
    let sid = unsafe {
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text.cast());
        sid
    };
    Ok(sid)
}

/// The security descriptor (SDDL) that lets only `sid` open an object: a protected DACL
/// (nothing inherited) with one ACE granting it everything.
pub fn owner_only_sddl(sid: &str) -> String {
    format!("D:P(A;;GA;;;{sid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_user_named_may_open_it() {
        assert_eq!(
            owner_only_sddl("S-1-5-21-1-2-3-1001"),
            "D:P(A;;GA;;;S-1-5-21-1-2-3-1001)"
        );
        #[cfg(windows)]
        assert!(current_user_sid().expect("the SID").starts_with("S-1-5-"));
    }
}
