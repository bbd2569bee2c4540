;; Multi-value: loops and blocks with parameters and several results (type-index block
;; types), select with explicit types. The loop header check must leave the loop's
;; parameters on the stack untouched.
(module
  (type $step (func (param i64 i64 i32) (result i64 i64 i32)))
  (type $pair (func (param i32 i32) (result i32 i32)))
  (memory (export "memory") 1)

  ;; fib(n) with the state carried as loop parameters.
  (func (export "fib") (param $n i32) (result i64)
    (i64.const 0) (i64.const 1) (local.get $n)
    (loop $l (type $step)
      ;; stack: a b k
      (if (type $step) (param i64 i64 i32) (result i64 i64 i32) (i32.eqz (local.get $n))
        (then)
        (else
          (call $advance)
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l))))
    (drop) (drop))
  (func $advance (param $a i64) (param $b i64) (param $k i32) (result i64 i64 i32)
    (local.get $b) (i64.add (local.get $a) (local.get $b)) (i32.sub (local.get $k) (i32.const 1)))

  ;; gcd with both values as loop parameters, select t* to order them.
  (func (export "gcd") (param i32 i32) (result i32)
    (local $a i32) (local $b i32)
    (local.get 0) (local.get 1)
    (loop $l (type $pair)
      (local.set $b) (local.set $a)
      (if (param) (result i32 i32) (local.get $b)
        (then
          (local.get $b)
          (i32.rem_u (local.get $a) (local.get $b))
          (br $l))
        (else (local.get $a) (i32.const 0))))
    (drop))

  (func (export "pick") (param i32) (result i64)
    (select (result i64) (i64.const 11) (i64.const 22) (local.get 0)))

  (func (export "swap_sum") (param $n i32) (result i32)
    (local $acc i32)
    (i32.const 1) (i32.const 2)
    (block $b (param i32 i32) (result i32 i32)
      (loop $l (param i32 i32) (result i32 i32)
        ;; swap the pair each round
        (local.set $acc) (local.get $acc)
        (local.get $n) (i32.eqz) (br_if $b)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i32.add))
)
