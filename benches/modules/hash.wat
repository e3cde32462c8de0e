;; Hash kernel: FNV-1a (64-bit) over a 4 KiB buffer, n times, each pass seeded by the last.
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i64) (local $h i64) (local $i i32)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $pass
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $h (i64.mul
          (i64.xor (local.get $h) (i64.load8_u (local.get $i)))
          (i64.const 0x100000001b3)))
        (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (i32.const 4096))))
      (i64.store (i32.const 0) (local.get $h))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $pass))
    (local.get $h)))
