//! The seed's byte counter in Rust: `rust_file_sizes(filename TEXT, size INTEGER)`, one row per content.
use wadup_guest::*;

// Every content, like the seed's byte counter (docs/modules/ABI.md, Manifest).
wadup_guest::manifest!(r#"{"version": 1, "role": "analyze"}"#);

#[no_mangle]
pub extern "C" fn process() -> i32 {
    run(|| {
        let table = TableBuilder::new("rust_file_sizes")
            .column("filename", DataType::String)
            .column("size", DataType::Int64)
            .define()?;
        table.insert()
            .value("filename", Content::filename())
            .value("size", Content::size() as i64)
            .execute()
    })
}
