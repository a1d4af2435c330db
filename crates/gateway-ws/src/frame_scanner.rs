//! Refuses a client frame on the length its header announces. actix-http's frame
//! parser checks a frame's size only once the whole frame has arrived, so a header
//! announcing 2^63 − 1 bytes would have the socket buffer whatever the client sends.
//! This scanner reads only the frame headers as the bytes pass through (payloads
//! are skipped, never copied) and tells of the first header over the limit.

/// The longest frame header: 2 bytes, an 8-byte extended length, a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Where the client's byte stream is: inside a header, or inside a payload.
#[derive(Debug, Default)]
pub(crate) struct FrameScanner {
    max_payload: u64,
    header: [u8; MAX_HEADER],
    header_len: usize,
    /// Payload bytes of the current frame still to pass.
    payload_left: u64,
}

/// A frame header announced a payload longer than the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooLong {
    pub(crate) announced: u64,
}

impl FrameScanner {
    pub(crate) fn new(max_payload: usize) -> Self {
        Self { max_payload: max_payload as u64, ..Self::default() }
    }

    /// Follows `bytes` through the frames; Err at a header announcing too long a payload.
    pub(crate) fn scan(&mut self, mut bytes: &[u8]) -> Result<(), TooLong> {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skipped = self.payload_left.min(bytes.len() as u64);
                self.payload_left -= skipped;
                bytes = &bytes[skipped as usize..];
                continue;
            }
            self.header[self.header_len] = bytes[0];
            self.header_len += 1;
            bytes = &bytes[1..];
            if let Some(announced) = self.complete_header() {
                if announced > self.max_payload {
                    return Err(TooLong { announced });
                }
                self.payload_left = announced;
                self.header_len = 0;
            }
        }
        Ok(())
    }

    /// The payload length, once the header collected so far is whole (RFC 6455 §5.2).
    fn complete_header(&self) -> Option<u64> {
        let header = &self.header[..self.header_len];
        let second = *header.get(1)?;
        let masked = second & 0x80 != 0;
        let (extended, short) = match second & 0x7f {
            126 => (2, None),
            127 => (8, None),
            short => (0, Some(u64::from(short))),
        };
        let whole = 2 + extended + if masked { 4 } else { 0 };
        if header.len() < whole {
            return None;
        }
        Some(short.unwrap_or_else(|| {
            header[2..2 + extended].iter().fold(0u64, |length, byte| (length << 8) | u64::from(*byte))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame header announcing `length` bytes.
    fn header(length: u64) -> Vec<u8> {
        let mut bytes = vec![0x81];
        match length {
            0..=125 => bytes.push(0x80 | length as u8),
            126..=0xffff => {
                bytes.push(0x80 | 126);
                bytes.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                bytes.push(0x80 | 127);
                bytes.extend_from_slice(&length.to_be_bytes());
            }
        }
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        bytes
    }

    #[test]
    fn frames_within_the_limit_pass_whatever_the_chunks() {
        let mut stream = Vec::new();
        for length in [0u64, 5, 125, 126, 300, 65_535, 70_000] {
            stream.extend(header(length));
            stream.extend(std::iter::repeat_n(b'x', length as usize));
        }
        for chunk in [1, 3, 7, 1000, stream.len()] {
            let mut scanner = FrameScanner::new(70_000);
            for piece in stream.chunks(chunk) {
                assert_eq!(scanner.scan(piece), Ok(()), "chunks of {chunk}");
            }
            assert_eq!((scanner.header_len, scanner.payload_left), (0, 0), "ends between frames");
        }
    }

    #[test]
    fn a_header_over_the_limit_is_refused_before_its_payload() {
        for length in [70_001u64, 10 * 1024 * 1024, i64::MAX as u64, u64::MAX] {
            let mut scanner = FrameScanner::new(70_000);
            let mut stream = header(10);
            stream.extend(b"0123456789");
            stream.extend(header(length));
            assert_eq!(scanner.scan(&stream), Err(TooLong { announced: length }));
        }
    }

    #[test]
    fn a_header_split_over_reads_is_read_whole() {
        let mut scanner = FrameScanner::new(100);
        let header = header(1_000_000);
        assert_eq!(scanner.scan(&header[..3]), Ok(()));
        assert_eq!(scanner.scan(&header[3..]), Err(TooLong { announced: 1_000_000 }));
    }
}
