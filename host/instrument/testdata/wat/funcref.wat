;; Typed function references: call_ref, br_on_null, br_on_non_null, ref.as_non_null,
;; a table with an initializer expression, globals and element segments holding ref.func.
(module
  (type $f (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func $inc (type $f) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $f) (i32.mul (local.get 0) (i32.const 2)))
  (table $fs 4 (ref null $f) (ref.func $inc))
  (global $current (mut (ref null $f)) (ref.func $dbl))
  (global $fixed (ref $f) (ref.func $inc))
  (elem declare func $inc $dbl)

  (func (export "apply") (param $n i32) (param $x i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $x (call_ref $f (local.get $x)
        (ref.as_non_null (table.get $fs (i32.and (local.get $i) (i32.const 3))))))
      (local.set $x (call_ref $f (local.get $x) (global.get $fixed)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $x))

  (func (export "swap") (param $which i32)
    (table.set $fs (i32.const 1) (global.get $current))
    (global.set $current (select (result (ref null $f)) (ref.func $inc) (ref.null $f) (local.get $which))))

  ;; Counts non-null table entries with br_on_null / br_on_non_null.
  (func (export "count") (result i32)
    (local $i i32) (local $n i32)
    (loop $l
      (block $null
        (br_on_null $null (table.get $fs (local.get $i)))
        (drop)
        (local.set $n (i32.add (local.get $n) (i32.const 1))))
      (block $some (result (ref $f))
        (br_on_non_null $some (global.get $current))
        (local.set $n (i32.add (local.get $n) (i32.const 100)))
        (ref.func $inc))
      (drop)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4))))
    (local.get $n))
)
