;; Sums 1..=n for n given as a little-endian u32 in the input (default 10) and returns the sum.
;; Try: cargo run -- run examples/sum.wat --input 0xe8030000
(module
  (import "tally" "input_size" (func $input_size (result i32)))
  (import "tally" "input_read" (func $input_read (param i32 i32 i32)))
  (import "tally" "set_return" (func $set_return (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call") (local $n i32) (local $acc i64)
    (local.set $n (i32.const 10))
    (if (i32.ge_u (call $input_size) (i32.const 4))
      (then
        (call $input_read (i32.const 0) (i32.const 0) (i32.const 4))
        (local.set $n (i32.load (i32.const 0)))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i64.store (i32.const 0) (local.get $acc))
    (call $set_return (i32.const 0) (i32.const 8))))
