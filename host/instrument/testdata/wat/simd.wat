;; SIMD: v128.const, i8x16.shuffle (16-byte immediates), lane immediates, memarg forms,
;; lane loads/stores and relaxed SIMD, all inside loops.
(module
  (memory (export "memory") 1 4)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\11\12\13\14\15\16\17\18\19\1a\1b\1c\1d\1e\1f\20")

  ;; Fill n i32 lanes with i*3+1, then sum them four lanes at a time.
  (func (export "dot") (param $n i32) (result i32)
    (local $i i32) (local $acc v128)
    (local.set $i (i32.const 0))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store offset=256 (i32.shl (local.get $i) (i32.const 2))
          (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (local.set $i (i32.const 0))
    (local.set $acc (v128.const i32x4 0 0 0 0))
    (block $out
      (loop $sum
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i32x4.add (local.get $acc)
            (i32x4.mul (v128.load offset=256 align=4 (i32.shl (local.get $i) (i32.const 2)))
                       (v128.const i32x4 1 2 3 4))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $sum)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))

  ;; Shuffle, swizzle, lane replace and extract in a loop.
  (func (export "shuffle") (param $rounds i32) (result i32)
    (local $v v128) (local $w v128)
    (local.set $v (v128.load (i32.const 0)))
    (local.set $w (v128.load offset=16 (i32.const 0)))
    (loop $again
      (local.set $v
        (i8x16.shuffle 31 0 30 1 29 2 28 3 27 4 26 5 25 6 24 7 (local.get $v) (local.get $w)))
      (local.set $w (i8x16.swizzle (local.get $w) (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0)))
      (local.set $v (i8x16.replace_lane 5 (local.get $v) (i32.add (i8x16.extract_lane_u 9 (local.get $w)) (i32.const 1))))
      (local.set $w (i16x8.add_sat_u (local.get $w) (local.get $v)))
      (br_if $again (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1)))))
    (i32.xor
      (i32.xor (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 3 (local.get $w)))
      (i32.wrap_i64 (i64x2.extract_lane 1 (i64x2.add (local.get $v) (local.get $w))))))

  ;; Lane loads/stores, load_zero, splat loads, bitmask, relaxed SIMD.
  (func (export "lanes") (param $k i32) (result i32)
    (local $v v128) (local $i i32) (local $r i32)
    (loop $l
      (local.set $v (v128.load32_zero offset=4 (local.get $i)))
      (local.set $v (v128.load8_lane 3 (i32.const 7) (local.get $v)))
      (local.set $v (v128.load16_lane offset=2 align=1 6 (i32.const 1) (local.get $v)))
      (local.set $v (i32x4.add (local.get $v) (v128.load32_splat (local.get $i))))
      (v128.store32_lane offset=512 2 (local.get $i) (local.get $v))
      (v128.store64_lane offset=600 1 (i32.const 0) (local.get $v))
      (local.set $r (i32.add (local.get $r)
        (i32.add (i8x16.bitmask (local.get $v)) (i32.load offset=512 (local.get $i)))))
      (local.set $r (i32.add (local.get $r)
        (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (f32x4.convert_i32x4_u (v128.load64_zero (i32.const 8)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $k))))
    (i32.add (local.get $r) (i32.load offset=600 (i32.const 0))))
)
