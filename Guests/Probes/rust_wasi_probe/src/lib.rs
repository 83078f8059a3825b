//! A WASI (wasm32-wasi) module using Rust std: prints to stdout/stderr (captured by WADUP, logged with -v),
//! tries to read a file (denied: no preopened directories) and reads the clock (allowed).
//! Table wasi_probe(file_denied INTEGER, clock_ok INTEGER).
use wadup_guest::*;
#[no_mangle]
pub extern "C" fn process() -> i32 {
    run(|| {
        println!("hello from wasi stdout");
        eprintln!("and stderr");
        let denied = std::fs::read("/etc/passwd").is_err();
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let table = TableBuilder::new("wasi_probe").column("file_denied", DataType::Int64).column("clock_ok", DataType::Int64).define()?;
        table.insert().value("file_denied", denied as i64).value("clock_ok", (t > 1_700_000_000) as i64).execute()
    })
}
