;; Tail calls: return_call, return_call_indirect and return_call_ref recursion deep
;; enough that it would overflow the stack without tail calls. None of these functions
;; has a loop: only the entry checks can interrupt them.
(module
  (type $pred (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $even_i $odd_i)
  (elem declare func $even_r $odd_r)

  (func $even (export "even") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get $n) (i32.const 1))))))
  (func $odd (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (return_call $even (i32.sub (local.get $n) (i32.const 1))))))

  (func $even_i (export "even_indirect") (type $pred)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_indirect (type $pred) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1)))))
  (func $odd_i (type $pred)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_indirect (type $pred) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))

  (func $even_r (export "even_ref") (type $pred)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_ref $pred (i32.sub (local.get 0) (i32.const 1)) (ref.func $odd_r)))))
  (func $odd_r (type $pred)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_ref $pred (i32.sub (local.get 0) (i32.const 1)) (ref.func $even_r)))))

  ;; Never returns: infinite tail recursion.
  (func $forever (export "forever") (param i32) (result i32)
    (return_call $forever (i32.add (local.get 0) (i32.const 1))))
)
