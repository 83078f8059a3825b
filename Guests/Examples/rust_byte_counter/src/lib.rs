//! The seed's byte counter in Rust: `rust_file_sizes(filename TEXT, size INTEGER)`, one row per content.
use wadup_guest::*;

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
