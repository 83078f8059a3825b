//! A WASI (wasm32-wasi) module using Rust std: prints to stdout/stderr (captured by WADUP, logged with -v),
//! tries to read a file (denied: no preopened directories) and reads the clock (allowed).
//! Table wasi_probe(file_denied INTEGER, clock_ok INTEGER). It also tests the crate's streams and
//! extents: from a content whose first byte is B it emits `rust_stream` (B 9 9, two skipped
//! zeros, 7) and `rust_extents` (B then a hole of 3), and does nothing on those.

use wadup_guest::*;
#[no_mangle]
pub extern "C" fn process() -> i32 {
    run(|| {
        if Content::filename().starts_with("rust_") {
            return Ok(());
        }
        let first = Content::read(0, 1)?;
        let mut stream = Stream::begin("rust_stream")?;
        stream.write(&[first[0], 9, 9])?;
        stream.skip(2)?;
        stream.write(&[7])?;
        stream.end()?;
        let dropped = Stream::begin("rust_dropped")?;
        drop(dropped);
        SubContent::emit_extents(&[Extent::Range { offset: 0, length: 1 }, Extent::Hole { length: 3 }], "rust_extents")?;
        println!("hello from wasi stdout");
        eprintln!("and stderr");
        let denied = std::fs::read("/etc/passwd").is_err();
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let table = TableBuilder::new("wasi_probe").column("file_denied", DataType::Int64).column("clock_ok", DataType::Int64).define()?;
        table.insert().value("file_denied", denied as i64).value("clock_ok", (t > 1_700_000_000) as i64).execute()
    })
}
