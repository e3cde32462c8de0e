;; Memory traffic: a running prefix sum over a 64 KiB array of i32, n passes.
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $acc i32)
    (loop $pass
      (local.set $i (i32.const 4))
      (loop $l
        (i32.store (local.get $i)
          (i32.add (i32.load (local.get $i)) (i32.load (i32.sub (local.get $i) (i32.const 4)))))
        (local.set $acc (i32.xor (local.get $acc) (i32.load (local.get $i))))
        (local.tee $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $l (i32.lt_u (i32.const 65536))))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $pass))
    (i64.extend_i32_u (local.get $acc))))
