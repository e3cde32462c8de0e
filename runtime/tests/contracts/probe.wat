;; A scriptable test contract. Its input (for `call` and `deploy` alike) is a sequence of
;; commands, run in order; reaching the end returns normally. Integers are little-endian.
;;
;;   0x01 key[32] value[32]                       storage_write
;;   0x02 addr[20] value[32] gas[8] len[4] data   call (status kept for 0x07)
;;   0x03                                         revert with empty data
;;   0x04 topic[32]                               emit a log with one topic, no data
;;   0x05                                         loop forever
;;   0x06 key[32]                                 storage_read, return the value
;;   0x07                                         revert with the status unless the last call
;;                                                or create succeeded
;;   0x08 value[32] len[4] code                   create (no input); return the address
;;   0x09 addr[20] value[32]                      transfer (status kept for 0x07)
;;   0x0a                                         return the last call's output
;;   0x0b len[4] data                             return data
;;   anything else                                unreachable
(module
  (import "tally" "input_size" (func $input_size (result i32)))
  (import "tally" "input_read" (func $input_read (param i32 i32 i32)))
  (import "tally" "set_return" (func $set_return (param i32 i32)))
  (import "tally" "revert" (func $revert (param i32 i32)))
  (import "tally" "storage_read" (func $storage_read (param i32 i32)))
  (import "tally" "storage_write" (func $storage_write (param i32 i32)))
  (import "tally" "emit_log" (func $emit_log (param i32 i32 i32 i32)))
  (import "tally" "call" (func $call (param i32 i32 i64 i32 i32) (result i32)))
  (import "tally" "create" (func $create (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "tally" "transfer" (func $transfer (param i32 i32) (result i32)))
  (import "tally" "return_data_size" (func $return_data_size (result i32)))
  (import "tally" "return_data_read" (func $return_data_read (param i32 i32 i32)))
  (memory (export "memory") 4)

  (func $run
    (local $p i32) (local $end i32) (local $op i32) (local $len i32)
    (local.set $len (call $input_size))
    (call $input_read (i32.const 4096) (i32.const 0) (local.get $len))
    (local.set $p (i32.const 4096))
    (local.set $end (i32.add (i32.const 4096) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $op (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eq (local.get $op) (i32.const 1))
          (then
            (call $storage_write (local.get $p) (i32.add (local.get $p) (i32.const 32)))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 2))
          (then
            (local.set $len (i32.load (i32.add (local.get $p) (i32.const 60))))
            (i32.store (i32.const 0)
              (call $call
                (local.get $p)
                (i32.add (local.get $p) (i32.const 20))
                (i64.load (i32.add (local.get $p) (i32.const 52)))
                (i32.add (local.get $p) (i32.const 64))
                (local.get $len)))
            (local.set $p (i32.add (i32.add (local.get $p) (i32.const 64)) (local.get $len)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 3))
          (then (call $revert (i32.const 0) (i32.const 0)) (unreachable)))
        (if (i32.eq (local.get $op) (i32.const 4))
          (then
            (call $emit_log (local.get $p) (i32.const 1) (local.get $p) (i32.const 0))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 5))
          (then (loop $spin (br $spin))))
        (if (i32.eq (local.get $op) (i32.const 6))
          (then
            (call $storage_read (local.get $p) (i32.const 64))
            (call $set_return (i32.const 64) (i32.const 32))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 7))
          (then
            (if (i32.ne (i32.load (i32.const 0)) (i32.const 0))
              (then (call $revert (i32.const 0) (i32.const 4)) (unreachable)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 8))
          (then
            (local.set $len (i32.load (i32.add (local.get $p) (i32.const 32))))
            (i32.store (i32.const 0)
              (call $create
                (i32.add (local.get $p) (i32.const 36))
                (local.get $len)
                (local.get $p)
                (i32.const 0)
                (i32.const 0)
                (i32.const 128)))
            (call $set_return (i32.const 128) (i32.const 20))
            (local.set $p (i32.add (i32.add (local.get $p) (i32.const 36)) (local.get $len)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 9))
          (then
            (i32.store (i32.const 0)
              (call $transfer (local.get $p) (i32.add (local.get $p) (i32.const 20))))
            (local.set $p (i32.add (local.get $p) (i32.const 52)))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 10))
          (then
            (local.set $len (call $return_data_size))
            (call $return_data_read (i32.const 256) (i32.const 0) (local.get $len))
            (call $set_return (i32.const 256) (local.get $len))
            (br $next)))
        (if (i32.eq (local.get $op) (i32.const 11))
          (then
            (local.set $len (i32.load (local.get $p)))
            (call $set_return (i32.add (local.get $p) (i32.const 4)) (local.get $len))
            (local.set $p (i32.add (i32.add (local.get $p) (i32.const 4)) (local.get $len)))
            (br $next)))
        (unreachable))))

  (func (export "call") (call $run))
  (func (export "deploy") (call $run)))
