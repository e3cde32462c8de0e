;; Tightest loop: counts to n.
(module
  (func (export "run") (param $n i32) (result i64) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.extend_i32_u (local.get $i))))
