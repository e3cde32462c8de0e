;; call_indirect dispatch: an interpreter-like loop through a table of four small functions.
(module
  (type $op (func (param i64) (result i64)))
  (table 4 funcref)
  (elem (i32.const 0) $inc $dbl $rot $mix)
  (func $inc (type $op) (i64.add (local.get 0) (i64.const 1)))
  (func $dbl (type $op) (i64.shl (local.get 0) (i64.const 1)))
  (func $rot (type $op) (i64.rotl (local.get 0) (i64.const 7)))
  (func $mix (type $op) (i64.xor (local.get 0) (i64.const 0x5555)))
  (func (export "run") (param $n i32) (result i64) (local $x i64)
    (loop $l
      (local.set $x (call_indirect (type $op) (local.get $x) (i32.and (local.get $n) (i32.const 3))))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l))
    (local.get $x)))
