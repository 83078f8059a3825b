//! Rust SDK for WADUP modules (the seed's API). The ABI is `docs/modules/ABI.md`; `ffi` mirrors
//! `Guests/C/wadup.h` exactly. No dependencies: the JSON the ABI needs is written here.
//!
//! ```ignore
//! use wadup_guest::*;
//! #[no_mangle]
//! pub extern "C" fn process() -> i32 { run(|| {
//!     let table = TableBuilder::new("file_sizes").column("size", DataType::Int64).define()?;
//!     table.insert().value("size", Content::size() as i64).execute()
//! }) }
//! ```

pub mod ffi {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn get_content_size() -> u32;
        pub fn read_content(offset: u32, length: u32, dest_ptr: *mut u8) -> i32;
        pub fn get_content_size64() -> i64;
        pub fn read_content64(offset: i64, length: u32, dest_ptr: *mut u8) -> i32;
        pub fn get_content_uuid(dest_ptr: *mut u8) -> i32;
        pub fn get_content_filename(dest_ptr: *mut u8, capacity: u32) -> i32;
        pub fn define_table(name_ptr: *const u8, name_len: u32, columns_ptr: *const u8, columns_len: u32) -> i32;
        pub fn insert_row(table_id: i32, row_ptr: *const u8, row_len: u32) -> i32;
        pub fn emit_subcontent_bytes(data_ptr: *const u8, data_len: u32, name_ptr: *const u8, name_len: u32) -> i32;
        pub fn emit_subcontent_slice(offset: u32, length: u32, name_ptr: *const u8, name_len: u32) -> i32;
        pub fn emit_subcontent_slice64(offset: i64, length: i64, name_ptr: *const u8, name_len: u32) -> i32;
        pub fn log_message(level: i32, msg_ptr: *const u8, msg_len: u32) -> i32;
        pub fn set_content_type(mime_ptr: *const u8, mime_len: u32, desc_ptr: *const u8, desc_len: u32) -> i32;
        pub fn get_content_type(dest_ptr: *mut u8, capacity: u32) -> i32;
        pub fn emit_stream_begin(name_ptr: *const u8, name_len: u32) -> i32;
        pub fn emit_stream_write(handle: i32, data_ptr: *const u8, data_len: u32) -> i32;
        pub fn emit_stream_skip(handle: i32, length: i64) -> i32;
        pub fn emit_stream_end(handle: i32) -> i32;
        pub fn emit_stream_abort(handle: i32) -> i32;
        pub fn emit_subcontent_extents(extents_ptr: *const i64, extent_count: u32, name_ptr: *const u8, name_len: u32) -> i32;
    }
}

/// A failed host call (the ABI's negative code) or a check made by this SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub const OUT_OF_BOUNDS: Error = Error(-1);
    pub const INVALID_UTF8: Error = Error(-2);
    pub const INVALID_JSON: Error = Error(-3);
    pub const INVALID_IDENTIFIER: Error = Error(-4);
    pub const SCHEMA_CONFLICT: Error = Error(-5);
    pub const UNKNOWN_TABLE: Error = Error(-6);
    pub const ARITY_MISMATCH: Error = Error(-7);
    pub const TYPE_MISMATCH: Error = Error(-8);
    pub const LIMIT_REACHED: Error = Error(-9);
    pub const INVALID_ARGUMENT: Error = Error(-10);
    pub const NO_CONTENT: Error = Error(-11);
    pub const INPUT_UNAVAILABLE: Error = Error(-12);
    pub const UNKNOWN_STREAM: Error = Error(-13);
    pub const TEMPORARY_STORAGE: Error = Error(-14);
    /// SDK-side: a column name the table does not have.
    pub const UNKNOWN_COLUMN: Error = Error(2);
}

pub type Result<T> = core::result::Result<T, Error>;

fn check(code: i32) -> Result<i32> {
    if code < 0 { Err(Error(code)) } else { Ok(code) }
}

/// Runs the module's work; an error becomes `process`'s return code (0 is success).
pub fn run<F: FnOnce() -> Result<()>>(f: F) -> i32 {
    match f() {
        Ok(()) => 0,
        Err(Error(0)) => 1,
        Err(Error(code)) => code,
    }
}

/// The text a `get_*(dest, capacity) -> length` host function gives, asked again with the full
/// length when the first buffer was too small; `None` for an error or text that is not UTF-8.
fn text(capacity: usize, get: impl Fn(*mut u8, u32) -> i32) -> Option<String> {
    let mut buffer = vec![0u8; capacity];
    loop {
        let n = get(buffer.as_mut_ptr(), buffer.len() as u32);
        if n < 0 {
            return None;
        }
        let n = n as usize;
        if n <= buffer.len() {
            buffer.truncate(n);
            return String::from_utf8(buffer).ok();
        }
        buffer = vec![0u8; n];
    }
}

/// The content being processed.
pub struct Content;

impl Content {
    /// Size in bytes, exact at any size (`get_content_size64`).
    pub fn size() -> u64 {
        unsafe { ffi::get_content_size64() as u64 }
    }

    /// `length` bytes from `offset`, anywhere in the content (`read_content64`).
    pub fn read(offset: u64, length: usize) -> Result<Vec<u8>> {
        let mut buffer = vec![0u8; length];
        if length > 0 {
            let offset = i64::try_from(offset).map_err(|_| Error::OUT_OF_BOUNDS)?;
            check(unsafe { ffi::read_content64(offset, length as u32, buffer.as_mut_ptr()) })?;
        }
        Ok(buffer)
    }

    pub fn read_all() -> Result<Vec<u8>> {
        Self::read(0, usize::try_from(Self::size()).map_err(|_| Error::OUT_OF_BOUNDS)?)
    }

    pub fn uuid() -> [u8; 16] {
        let mut bytes = [0u8; 16];
        unsafe { ffi::get_content_uuid(bytes.as_mut_ptr()) };
        bytes
    }

    /// The MIME type the run's identifying module reported for this content, if any
    /// (`get_content_type`).
    pub fn mime() -> Option<String> {
        text(128, |dest, capacity| unsafe { ffi::get_content_type(dest, capacity) }).filter(|mime| !mime.is_empty())
    }

    /// Reports the content's type: for identifying modules only (manifest role `identify`).
    pub fn set_type(mime: &str, description: &str) -> Result<()> {
        check(unsafe { ffi::set_content_type(mime.as_ptr(), mime.len() as u32, description.as_ptr(), description.len() as u32) }).map(|_| ())
    }

    pub fn filename() -> String {
        text(256, |dest, capacity| unsafe { ffi::get_content_filename(dest, capacity) }).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Int64,
    Float64,
    String,
}

impl DataType {
    fn name(self) -> &'static str {
        match self {
            DataType::Int64 => "Int64",
            DataType::Float64 => "Float64",
            DataType::String => "String",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int64(i64),
    Float64(f64),
    String(String),
    Null,
}

impl From<i64> for Value { fn from(v: i64) -> Self { Value::Int64(v) } }
impl From<f64> for Value { fn from(v: f64) -> Self { Value::Float64(v) } }
impl From<&str> for Value { fn from(v: &str) -> Self { Value::String(v.to_string()) } }
impl From<String> for Value { fn from(v: String) -> Self { Value::String(v) } }

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

pub struct Column {
    pub name: String,
    pub data_type: DataType,
}

/// `TableBuilder::new("t").column("size", DataType::Int64).define()`
pub struct TableBuilder {
    name: String,
    columns: Vec<Column>,
}

impl TableBuilder {
    pub fn new(name: impl Into<String>) -> Self {
        TableBuilder { name: name.into(), columns: Vec::new() }
    }

    pub fn column(mut self, name: impl Into<String>, data_type: DataType) -> Self {
        self.columns.push(Column { name: name.into(), data_type });
        self
    }

    pub fn define(self) -> Result<Table> {
        let mut json = String::from("[");
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 { json.push(','); }
            json.push_str("{\"name\":");
            json_string(&mut json, &c.name);
            json.push_str(",\"data_type\":\"");
            json.push_str(c.data_type.name());
            json.push_str("\"}");
        }
        json.push(']');
        let id = check(unsafe { ffi::define_table(self.name.as_ptr(), self.name.len() as u32, json.as_ptr(), json.len() as u32) })?;
        Ok(Table { id, columns: self.columns })
    }
}

pub struct Table {
    id: i32,
    columns: Vec<Column>,
}

impl Table {
    /// Starts a row filled by column name; unset columns are null.
    pub fn insert(&self) -> RowBuilder<'_> {
        RowBuilder { table: self, values: self.columns.iter().map(|_| Value::Null).collect(), error: None }
    }
}

pub struct RowBuilder<'a> {
    table: &'a Table,
    values: Vec<Value>,
    error: Option<Error>,
}

impl<'a> RowBuilder<'a> {
    pub fn value(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.table.columns.iter().position(|c| c.name == name) {
            None => self.error = Some(Error::UNKNOWN_COLUMN),
            Some(i) => {
                let ok = matches!((&value, self.table.columns[i].data_type),
                    (Value::Null, _) | (Value::Int64(_), DataType::Int64) | (Value::Float64(_), DataType::Float64) | (Value::String(_), DataType::String));
                if !ok { self.error = Some(Error::TYPE_MISMATCH); }
                self.values[i] = value;
            }
        }
        self
    }

    pub fn execute(self) -> Result<()> {
        if let Some(e) = self.error { return Err(e); }
        let mut json = String::from("[");
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 { json.push(','); }
            match v {
                Value::Null => json.push_str("null"),
                Value::Int64(x) => json.push_str(&format!("{{\"Int64\":{}}}", x)),
                Value::Float64(x) if x.is_finite() => json.push_str(&format!("{{\"Float64\":{:e}}}", x)),
                Value::Float64(_) => json.push_str("null"),
                Value::String(s) => { json.push_str("{\"String\":"); json_string(&mut json, s); json.push('}'); }
            }
        }
        json.push(']');
        check(unsafe { ffi::insert_row(self.table.id, json.as_ptr(), json.len() as u32) }).map(|_| ())
    }
}

/// Sub-content, processed by WADUP like files.
pub struct SubContent;

impl SubContent {
    pub fn emit_bytes(data: &[u8], filename: &str) -> Result<()> {
        check(unsafe { ffi::emit_subcontent_bytes(data.as_ptr(), data.len() as u32, filename.as_ptr(), filename.len() as u32) }).map(|_| ())
    }

    /// A zero-copy range of the current content.
    pub fn emit_slice(offset: u64, length: u64, filename: &str) -> Result<()> {
        let (offset, length) = (i64::try_from(offset).map_err(|_| Error::OUT_OF_BOUNDS)?, i64::try_from(length).map_err(|_| Error::OUT_OF_BOUNDS)?);
        check(unsafe { ffi::emit_subcontent_slice64(offset, length, filename.as_ptr(), filename.len() as u32) }).map(|_| ())
    }
}

/// One piece of an extents sub-content: a range of the current content, or a hole of zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    Range { offset: u64, length: u64 },
    Hole { length: u64 },
}

impl SubContent {
    /// A zero-copy sub-content made of ranges of the current content and holes (at most 65536).
    pub fn emit_extents(extents: &[Extent], filename: &str) -> Result<()> {
        let mut array: Vec<i64> = Vec::with_capacity(extents.len() * 2);
        for extent in extents {
            let (offset, length) = match *extent {
                Extent::Range { offset, length } => (i64::try_from(offset).map_err(|_| Error::OUT_OF_BOUNDS)?, length),
                Extent::Hole { length } => (-1, length),
            };
            array.push(offset);
            array.push(i64::try_from(length).map_err(|_| Error::OUT_OF_BOUNDS)?);
        }
        check(unsafe { ffi::emit_subcontent_extents(array.as_ptr(), extents.len() as u32, filename.as_ptr(), filename.len() as u32) }).map(|_| ())
    }
}

/// A sub-content of any size written piece by piece: the host keeps a small one in memory and a
/// large one in an unlinked temporary file. `end` emits it; one dropped without `end` is aborted.
pub struct Stream {
    handle: i32,
    open: bool,
}

impl Stream {
    pub fn begin(filename: &str) -> Result<Stream> {
        let handle = check(unsafe { ffi::emit_stream_begin(filename.as_ptr(), filename.len() as u32) })?;
        Ok(Stream { handle, open: true })
    }

    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        check(unsafe { ffi::emit_stream_write(self.handle, data.as_ptr(), data.len() as u32) }).map(|_| ())
    }

    /// Appends `length` zero bytes without sending them (a hole: no disk, no copy on the host).
    pub fn skip(&mut self, length: u64) -> Result<()> {
        let length = i64::try_from(length).map_err(|_| Error::INVALID_ARGUMENT)?;
        check(unsafe { ffi::emit_stream_skip(self.handle, length) }).map(|_| ())
    }

    /// Emits the stream as a sub-content, after those emitted before.
    pub fn end(mut self) -> Result<()> {
        self.open = false;
        check(unsafe { ffi::emit_stream_end(self.handle) }).map(|_| ())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.open {
            unsafe { ffi::emit_stream_abort(self.handle) };
        }
    }
}

/// Log lines, tagged by WADUP with the module and the content.
pub fn log(level: i32, message: &str) {
    unsafe { ffi::log_message(level, message.as_ptr(), message.len() as u32) };
}

/// Declares the module's manifest (docs/modules/ABI.md, "Manifest"): its role and the contents it
/// accepts, as JSON in the `wadup.manifest` custom section. Once per module:
///
/// ```ignore
/// wadup_guest::manifest!(r#"{"role": "analyze", "accepts": {"mime": ["application/pdf"]}}"#);
/// ```
#[macro_export]
macro_rules! manifest {
    ($json:expr) => {
        #[used]
        #[link_section = "wadup.manifest"]
        static WADUP_MANIFEST: [u8; $json.len()] = {
            let bytes = $json.as_bytes();
            let mut out = [0u8; $json.len()];
            let mut i = 0;
            while i < bytes.len() {
                out[i] = bytes[i];
                i += 1;
            }
            out
        };
    };
}
