;; On a content of 1 to 64 bytes (the benchmark's seed file), streams a sub-content of
;; 4096 writes of 1 MiB (4 GiB) through emit_stream_write: bytes that are not zeros (a pattern
;; filled once; the first word is the write's number), so every byte is hashed and written to the
;; temporary file. Any other content (the 4 GiB child itself) gives nothing.
(module
  (import "env" "get_content_size64" (func $size (result i64)))
  (import "env" "emit_stream_begin" (func $begin (param i32 i32) (result i32)))
  (import "env" "emit_stream_write" (func $write (param i32 i32 i32) (result i32)))
  (import "env" "emit_stream_end" (func $end (param i32) (result i32)))
  (memory (export "memory") 17)
  (data (i32.const 0) "stream.bin")
  (func (export "process") (result i32)
    (local $h i32) (local $i i32) (local $p i32) (local $rc i32)
    (if (i64.gt_u (call $size) (i64.const 64)) (then (return (i32.const 0))))
    (loop $fill
      (i32.store (i32.add (i32.const 65536) (local.get $p)) (i32.add (i32.mul (local.get $p) (i32.const 2654435761)) (i32.const 1)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $fill (i32.lt_u (local.get $p) (i32.const 1048576))))
    (local.set $h (call $begin (i32.const 0) (i32.const 10)))
    (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (local.get $h))))
    (block $done
      (loop $writes
        (br_if $done (i32.ge_u (local.get $i) (i32.const 4096)))
        (i32.store (i32.const 65536) (i32.add (local.get $i) (i32.const 1)))
        (local.set $rc (call $write (local.get $h) (i32.const 65536) (i32.const 1048576)))
        (if (i32.lt_s (local.get $rc) (i32.const 0)) (then (return (local.get $rc))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $writes)))
    (call $end (local.get $h))))
