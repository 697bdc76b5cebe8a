//! S3 ETags computed locally, so "already there and identical" is decided without downloading:
//! a single-part object's ETag is the MD5 of its bytes; a multipart object's is the MD5 of its
//! parts' MD5s, a dash and the part count. The part size stackctl uses (8 MiB, doubled until
//! there are at most 10,000 parts) is the AWS CLI's, so data staged by the tutorials' `aws s3
//! cp` is recognised too. ETags of objects encrypted with SSE-KMS are not MD5s: such objects
//! are uploaded again (docs/data.md).

use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// S3's limit on parts per upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's smallest part (except the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// Default part size and multipart threshold (the AWS CLI's).
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// Part sizes other tools use by default, tried when an existing multipart object's part count
/// does not fit ours (s5cmd: 50 MiB; boto3 and the SDKs: 8 or 16 MiB; rclone: 5 MiB).
const COMMON_PART_SIZES: [u64; 7] = [5, 8, 16, 32, 50, 64, 100];

/// The part size for a file of `len` bytes: `wanted`, doubled until the parts fit S3's limit.
pub fn part_size(len: u64, wanted: u64) -> u64 {
    let mut size = wanted.max(MIN_PART_SIZE);
    while len.div_ceil(size) > MAX_PARTS {
        size *= 2;
    }
    size
}

/// Number of parts of a `len`-byte file at `part_size`.
pub fn part_count(len: u64, part_size: u64) -> u64 {
    len.div_ceil(part_size).max(1)
}

/// An ETag without quotes, lower case.
pub fn normalize(etag: &str) -> String {
    etag.trim_matches('"').to_ascii_lowercase()
}

/// The part count of a multipart ETag (`...-N`), or None for a single-part one.
pub fn multipart_count(etag: &str) -> Option<u64> {
    normalize(etag).split_once('-')?.1.parse().ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MD5s of a file, whole and per part, for each part size asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// MD5 of the whole file, hex.
    pub md5: String,
    /// For each part size asked: the part size and its parts' MD5s (hex).
    pub parts: Vec<(u64, Vec<String>)>,
}

impl FileDigest {
    /// The ETag S3 gives this file uploaded in one piece.
    pub fn single_etag(&self) -> String {
        self.md5.clone()
    }

    /// The ETag S3 gives this file uploaded in parts of `part_size` (which must have been asked).
    pub fn multipart_etag(&self, part_size: u64) -> Option<String> {
        let (_, md5s) = self.parts.iter().find(|(size, _)| *size == part_size)?;
        let mut outer = Md5::new();
        for part in md5s {
            let raw: Vec<u8> = (0..part.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&part[i..i + 2], 16).expect("hex digest"))
                .collect();
            outer.update(&raw);
        }
        Some(format!("{}-{}", hex(&outer.finalize()), md5s.len()))
    }

    /// True when `remote_etag` is this file's ETag for any upload shape that was hashed.
    pub fn matches(&self, remote_etag: &str) -> bool {
        let remote = normalize(remote_etag);
        match multipart_count(&remote) {
            None => remote == self.md5,
            Some(_) => self
                .parts
                .iter()
                .any(|(size, _)| self.multipart_etag(*size).as_deref() == Some(remote.as_str())),
        }
    }
}

/// The part sizes worth hashing to compare a `len`-byte file with an object whose ETag is
/// `remote_etag`: ours, and the common ones that give the same part count.
pub fn candidate_part_sizes(len: u64, ours: u64, remote_etag: &str) -> Vec<u64> {
    let Some(count) = multipart_count(remote_etag) else {
        return Vec::new();
    };
    let mut sizes: Vec<u64> = std::iter::once(ours)
        .chain(COMMON_PART_SIZES.iter().map(|m| m * MIB))
        .filter(|size| part_count(len, *size) == count)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// Reads `path` once and computes its MD5 and its parts' MD5s for each of `part_sizes`.
/// Blocking; run it on a blocking thread.
pub fn digest(path: &Path, part_sizes: &[u64]) -> std::io::Result<FileDigest> {
    const BUF: usize = 1 << 20;
    let mut file = fs_err::File::open(path)?;
    let mut buf = vec![0u8; BUF];
    let mut whole = Md5::new();
    // Per part size: (current part hasher, bytes in it, finished parts).
    let mut shapes: Vec<(u64, Md5, u64, Vec<String>)> = part_sizes
        .iter()
        .map(|size| (*size, Md5::new(), 0, Vec::new()))
        .collect();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        whole.update(chunk);
        for (size, hasher, filled, done) in &mut shapes {
            let mut rest = chunk;
            while !rest.is_empty() {
                let room = (*size - *filled) as usize;
                let take = room.min(rest.len());
                hasher.update(&rest[..take]);
                *filled += take as u64;
                rest = &rest[take..];
                if *filled == *size {
                    done.push(hex(&std::mem::take(hasher).finalize()));
                    *filled = 0;
                }
            }
        }
    }
    let parts = shapes
        .into_iter()
        .map(|(size, hasher, filled, mut done)| {
            if filled > 0 || done.is_empty() {
                done.push(hex(&hasher.finalize()));
            }
            (size, done)
        })
        .collect();
    Ok(FileDigest {
        md5: hex(&whole.finalize()),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs_err::write(&path, b"hello").unwrap();
        let d = digest(&path, &[]).unwrap();
        assert_eq!(d.single_etag(), "5d41402abc4b2a76b9719d911017c592");
        assert!(d.matches("\"5D41402ABC4B2A76B9719D911017C592\""));
        assert!(!d.matches("\"00000000000000000000000000000000\""));
    }

    #[test]
    fn multipart_etag_is_md5_of_part_md5s() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let body: Vec<u8> = (0..(11 * MIB + 3)).map(|i| (i % 251) as u8).collect();
        fs_err::write(&path, &body).unwrap();
        let d = digest(&path, &[5 * MIB, 8 * MIB]).unwrap();
        // Computed independently from the definition.
        let expect = |size: usize| {
            let mut outer = Md5::new();
            let mut count = 0;
            for part in body.chunks(size) {
                outer.update(Md5::digest(part));
                count += 1;
            }
            format!("{}-{count}", hex(&outer.finalize()))
        };
        assert_eq!(d.multipart_etag(8 * MIB).unwrap(), expect(8 * MIB as usize));
        assert_eq!(d.multipart_etag(5 * MIB).unwrap(), expect(5 * MIB as usize));
        assert!(d.multipart_etag(5 * MIB).unwrap().ends_with("-3"));
        assert!(d.matches(&expect(8 * MIB as usize)));
        assert_eq!(d.md5, hex(&Md5::digest(&body)));
    }

    #[test]
    fn part_size_grows_to_fit_ten_thousand_parts() {
        assert_eq!(part_size(100 * MIB, DEFAULT_PART_SIZE), 8 * MIB);
        assert_eq!(part_size(100 * MIB, MIB), 5 * MIB);
        let huge = 200 * 1024 * MIB;
        let size = part_size(huge, DEFAULT_PART_SIZE);
        assert!(huge.div_ceil(size) <= MAX_PARTS);
        assert_eq!(size, 32 * MIB);
    }

    #[test]
    fn candidates_follow_the_remote_part_count() {
        let len = 450 * MIB;
        assert_eq!(
            candidate_part_sizes(len, 8 * MIB, "\"abc\""),
            Vec::<u64>::new()
        );
        assert_eq!(
            candidate_part_sizes(len, 8 * MIB, "\"abc-57\""),
            vec![8 * MIB]
        );
        assert_eq!(
            candidate_part_sizes(len, 8 * MIB, "\"abc-9\""),
            vec![50 * MIB]
        );
    }
}
