;; Bulk memory and reference types: passive data and element segments, memory.init /
;; copy / fill, table.init / copy / grow / size / fill / get / set, expression-form
;; element segments with ref.func, saturating conversions and sign extension.
(module
  (type $binop (func (param i32 i32) (result i32)))
  (memory (export "memory") 1 2)
  (table $t 4 16 funcref)
  (table $ext 2 externref)
  (data $words "bulk-memory-data")
  (elem $ops funcref (ref.func $add) (ref.func $sub) (ref.func $mul) (ref.null func))
  (elem (table $t) (i32.const 0) func $add $sub)
  (elem declare func $mul)

  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $binop) (i32.mul (local.get 0) (local.get 1)))

  ;; Copy the passive data around and checksum it.
  (func (export "mem") (param $n i32) (result i32)
    (local $i i32) (local $h i32)
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 64))
    (memory.init $words (i32.const 100) (i32.const 0) (i32.const 16))
    (loop $l
      (memory.copy (i32.add (i32.const 200) (local.get $i)) (i32.const 100) (i32.const 20))
      (local.set $i (i32.add (local.get $i) (i32.const 3)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $i (i32.const 0))
    (block $b
      (loop $h
        (br_if $b (i32.ge_u (local.get $i) (i32.add (local.get $n) (i32.const 20))))
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (i32.load8_u offset=200 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $h)))
    (local.get $h))

  (func (export "drop_data") (result i32)
    (data.drop $words)
    (memory.init $words (i32.const 0) (i32.const 0) (i32.const 0))
    (i32.const 1))

  ;; Tables: fill from the passive element segment, call through call_indirect.
  (func (export "tables") (param $x i32) (result i32)
    (local $i i32) (local $acc i32)
    (drop (table.grow $t (ref.null func) (i32.const 4)))
    (table.init $t $ops (i32.const 4) (i32.const 0) (i32.const 3))
    (table.copy $t $t (i32.const 7) (i32.const 4) (i32.const 1))
    (table.fill $t (i32.const 2) (ref.func $mul) (i32.const 2))
    (table.set $t (i32.const 3) (table.get $t (i32.const 5)))
    (local.set $acc (local.get $x))
    (loop $l
      (local.set $acc
        (call_indirect $t (type $binop) (local.get $acc) (i32.add (local.get $i) (i32.const 2)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 8))))
    (elem.drop $ops)
    (i32.add (local.get $acc) (i32.mul (table.size $t) (i32.const 1000))))

  (func (export "externs") (param $v externref) (result i32)
    (table.set $ext (i32.const 1) (local.get $v))
    (i32.add (ref.is_null (table.get $ext (i32.const 0))) (ref.is_null (table.get $ext (i32.const 1)))))

  ;; Saturating float-to-int and sign extension.
  (func (export "numeric") (param $f f64) (result i64)
    (i64.add
      (i64.add (i64.trunc_sat_f64_s (local.get $f)) (i64.extend_i32_u (i32.trunc_sat_f32_u (f32.demote_f64 (local.get $f)))))
      (i64.add (i64.extend8_s (i64.const 0xff)) (i64.extend_i32_s (i32.extend16_s (i32.const 0x8001))))))

  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)
