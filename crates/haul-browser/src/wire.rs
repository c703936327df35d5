//! Native messaging's framing, as Chromium and Firefox define it: each message is UTF-8 JSON
//! preceded by its length in 4 bytes, in the machine's byte order.
//!
//! Owns: reading one message within [`MAX_MESSAGE`] (a longer one is read to its end and
//! skipped, so the stream stays in step) and writing one.
//! Must not touch: what a message means ([`crate::message`]).

use std::io::{self, Read, Write};

/// The longest message the host takes: the 1 MiB the browsers allow a message the other way.
pub const MAX_MESSAGE: u32 = 1024 * 1024;

/// One frame read from the browser.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message's bytes.
    Message(Vec<u8>),
    /// A message longer than [`MAX_MESSAGE`]: its bytes were read and dropped.
    TooLong(u32),
    /// The browser closed the pipe.
    End,
}

/// Reads the next frame. An end in the middle of a frame is an error.
pub fn read_frame(input: &mut impl Read) -> io::Result<Frame> {
    let mut prefix = [0u8; 4];
    match input.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Frame::End),
        Err(e) => return Err(e),
    }
    let len = u32::from_ne_bytes(prefix);
    if len > MAX_MESSAGE {
        let skipped = io::copy(&mut input.take(u64::from(len)), &mut io::sink())?;
        if skipped < u64::from(len) {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        return Ok(Frame::TooLong(len));
    }
    let mut message = vec![0u8; len as usize];
    input.read_exact(&mut message)?;
    Ok(Frame::Message(message))
}

/// Writes one message and flushes it.
pub fn write_message(output: &mut impl Write, message: &serde_json::Value) -> io::Result<()> {
    let bytes = serde_json::to_vec(message)?;
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("reply too long"))?;
    output.write_all(&len.to_ne_bytes())?;
    output.write_all(&bytes)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn frames_are_read_in_step_and_an_oversized_one_is_skipped_whole() {
        let mut input = framed(b"{\"a\":1}");
        input.extend(framed(&vec![b' '; MAX_MESSAGE as usize + 1]));
        input.extend(framed(b"[]"));
        let mut input = input.as_slice();
        assert_eq!(
            read_frame(&mut input).ok(),
            Some(Frame::Message(b"{\"a\":1}".to_vec()))
        );
        assert_eq!(
            read_frame(&mut input).ok(),
            Some(Frame::TooLong(MAX_MESSAGE + 1))
        );
        assert_eq!(
            read_frame(&mut input).ok(),
            Some(Frame::Message(b"[]".to_vec()))
        );
        assert_eq!(read_frame(&mut input).ok(), Some(Frame::End));
        // A frame cut short is an error, not a message.
        let mut cut = &framed(b"{\"a\":1}")[..6];
        assert!(read_frame(&mut cut).is_err());
    }
}
