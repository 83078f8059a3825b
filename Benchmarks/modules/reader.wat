;; Reads every byte of the content through read_content in 1 MiB chunks and folds them into a
;; checksum (so the bytes are really used), then returns 0.
(module
  (import "env" "get_content_size" (func $size (result i32)))
  (import "env" "read_content" (func $read (param i32 i32 i32) (result i32)))
  (memory (export "memory") 17)
  (global $sum (mut i64) (i64.const 0))
  (func (export "process") (result i32)
    (local $offset i32) (local $total i32) (local $n i32) (local $p i32) (local $end i32) (local $acc i64)
    (local.set $total (call $size))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $offset) (local.get $total)))
        (local.set $n (i32.sub (local.get $total) (local.get $offset)))
        (if (i32.gt_u (local.get $n) (i32.const 1048576)) (then (local.set $n (i32.const 1048576))))
        (if (i32.ne (call $read (local.get $offset) (local.get $n) (i32.const 65536)) (i32.const 0)) (then (return (i32.const 1))))
        (local.set $p (i32.const 65536))
        (local.set $end (i32.add (i32.const 65536) (i32.and (local.get $n) (i32.const -8))))
        (block $words_done
          (loop $words
            (br_if $words_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $acc (i64.xor (i64.rotl (local.get $acc) (i64.const 5)) (i64.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $words)))
        (local.set $offset (i32.add (local.get $offset) (local.get $n)))
        (br $chunks)))
    (global.set $sum (local.get $acc))
    (i32.const 0)))
