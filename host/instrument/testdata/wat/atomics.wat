;; Threads instructions on an unshared memory (valid, and what some toolchains emit):
;; atomic loads, stores, read-modify-write, cmpxchg, fence, notify.
(module
  (memory (export "memory") 1 1)
  (func (export "atomics") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 16) (local.get $i)))
      (drop (i64.atomic.rmw32.xor_u offset=8 (i32.const 16) (i64.extend_i32_u (local.get $i))))
      (drop (i32.atomic.rmw.cmpxchg (i32.const 32) (local.get $i) (i32.add (local.get $i) (i32.const 1))))
      (i32.atomic.store8 offset=3 (i32.const 40) (local.get $i))
      (atomic.fence)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add
      (i32.add (i32.atomic.load (i32.const 16)) (i32.wrap_i64 (i64.atomic.load offset=8 (i32.const 16))))
      (i32.add (i32.atomic.load (i32.const 32))
        (i32.add (i32.atomic.load8_u offset=3 (i32.const 40)) (memory.atomic.notify (i32.const 0) (i32.const 1))))))
)
