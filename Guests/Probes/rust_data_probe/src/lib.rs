//! A WASI (wasm32-wasi) module reading its data folder (WADUP preopens it read-only at /data)
//! with Rust std, and trying everything a read-only folder must refuse.
//! The content is a host path (absolute) the module must not be able to read.
//! Table data_probe(size INTEGER, fnv TEXT, text TEXT, entries INTEGER, and one INTEGER per forbidden
//! operation: 1 if it succeeded, which must never happen).
use std::fs::{self, OpenOptions};
use std::io::Write;
use wadup_guest::*;

/// FNV-1a 64 of `bytes`, as 16 hex digits (no hashing crate offline).
fn fnv(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes { h = (h ^ *b as u64).wrapping_mul(0x100000001b3); }
    format!("{:016x}", h)
}

#[no_mangle]
pub extern "C" fn process() -> i32 {
    run(|| {
        let data = fs::read("/data/hello.txt");
        let (size, hash, text) = match &data {
            Ok(b) => (b.len() as i64, fnv(b), String::from_utf8_lossy(b).into_owned()),
            Err(_) => (-1, String::new(), String::new()),
        };
        let entries = fs::read_dir("/data").map(|d| d.count() as i64).unwrap_or(-1);
        let created = fs::File::create("/data/new.txt").is_ok() as i64;
        let appended = OpenOptions::new().append(true).open("/data/hello.txt").and_then(|mut f| f.write_all(b"x")).is_ok() as i64;
        let truncated = OpenOptions::new().write(true).truncate(true).open("/data/hello.txt").is_ok() as i64;
        let removed = fs::remove_file("/data/hello.txt").is_ok() as i64;
        let made_dir = fs::create_dir("/data/sub").is_ok() as i64;
        let renamed = fs::rename("/data/hello.txt", "/data/moved.txt").is_ok() as i64;
        let parent_read = fs::read("/data/../secret.txt").is_ok() as i64;
        let host_path = String::from_utf8(Content::read(0, Content::size() as usize)?).unwrap_or_default();
        let host_read = fs::read(host_path.trim()).is_ok() as i64;
        let table = TableBuilder::new("data_probe")
            .column("size", DataType::Int64).column("fnv", DataType::String).column("text", DataType::String)
            .column("entries", DataType::Int64).column("created", DataType::Int64).column("appended", DataType::Int64)
            .column("truncated", DataType::Int64).column("removed", DataType::Int64).column("made_dir", DataType::Int64)
            .column("renamed", DataType::Int64).column("parent_read", DataType::Int64).column("host_read", DataType::Int64)
            .define()?;
        table.insert().value("size", size).value("fnv", hash).value("text", text).value("entries", entries)
            .value("created", created).value("appended", appended).value("truncated", truncated).value("removed", removed)
            .value("made_dir", made_dir).value("renamed", renamed).value("parent_read", parent_read).value("host_read", host_read)
            .execute()
    })
}
