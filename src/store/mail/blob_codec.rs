//! How raw message bytes are kept in the `BLOBS` table: one tag byte, then the payload.
//!
//! Mail is mostly text and compresses 2-4x with LZ4 at hundreds of MB/s, which keeps the one
//! database file small (a disk target of 1.4x the raw mail, store and index together) for a
//! cost far below the fsync each delivery pays anyway. Already-compressed content (images, zip
//! attachments) is stored raw when compression would not save at least 1/8.

const RAW: u8 = 0;
const LZ4: u8 = 1;

pub fn encode(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() >= 512 {
        let c = lz4_flex::block::compress_prepend_size(bytes);
        if c.len() + c.len() / 8 < bytes.len() {
            let mut out = Vec::with_capacity(c.len() + 1);
            out.push(LZ4);
            out.extend_from_slice(&c);
            return out;
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(RAW);
    out.extend_from_slice(bytes);
    out
}

pub fn decode(stored: &[u8]) -> Result<Vec<u8>, String> {
    match stored.split_first() {
        Some((&RAW, rest)) => Ok(rest.to_vec()),
        Some((&LZ4, rest)) => {
            lz4_flex::block::decompress_size_prepended(rest).map_err(|e| format!("blob: {e}"))
        }
        Some((tag, _)) => Err(format!("blob: unknown encoding {tag}")),
        None => Err("blob: empty record".into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let text = "Subject: hello\r\n\r\n".repeat(100).into_bytes();
        let e = super::encode(&text);
        assert!(e.len() < text.len() / 2);
        assert_eq!(super::decode(&e).unwrap(), text);
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert_eq!(super::decode(&super::encode(&noise)).unwrap(), noise);
        assert_eq!(super::decode(&super::encode(b"")).unwrap(), b"");
        assert!(super::decode(&[9, 1]).is_err());
    }
}
