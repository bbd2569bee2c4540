;; GC: structs, arrays, casts and i31 in loops (immediates of 0xfb instructions).
(module
  (type $point (struct (field $x (mut i32)) (field $y (mut i32))))
  (type $ints (array (mut i32)))
  (type $bytes (array (mut i8)))
  (rec (type $node (struct (field $v i32) (field $next (ref null $node)))))
  (memory (export "memory") 1)
  (data $d "\01\02\03\04")
  (elem $e funcref (ref.func $sum))
  (global $acc (mut i32) (i32.const 0))

  (func $sum (export "sum") (param $n i32) (result i32)
    (local $a (ref $ints)) (local $p (ref $point)) (local $i i32) (local $list (ref null $node)) (local $b (ref $bytes))
    (local.set $a (array.new $ints (i32.const 3) (local.get $n)))
    (local.set $p (struct.new_default $point))
    (local.set $b (array.new_data $bytes $d (i32.const 0) (i32.const 4)))
    (loop $l
      (array.set $ints (local.get $a) (local.get $i)
        (i32.add (array.get $ints (local.get $a) (local.get $i)) (local.get $i)))
      (struct.set $point $x (local.get $p) (i32.add (struct.get $point $x (local.get $p)) (array.get $ints (local.get $a) (local.get $i))))
      (local.set $list (struct.new $node (local.get $i) (local.get $list)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (array.fill $ints (local.get $a) (i32.const 0) (i32.const 5) (i32.const 1))
    (array.copy $ints $ints (local.get $a) (i32.const 1) (local.get $a) (i32.const 0) (i32.const 1))
    ;; walk the list with casts
    (local.set $i (i32.const 0))
    (block $end
      (loop $walk
        (br_on_null $end (local.get $list))
        (local.set $list (struct.get $node $next (ref.cast (ref $node))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $walk)))
    (i32.add
      (i32.add (struct.get $point $x (local.get $p)) (array.len (local.get $a)))
      (i32.add (local.get $i)
        (i32.add (array.get_u $bytes (local.get $b) (i32.const 3))
          (i31.get_s (ref.cast (ref i31) (any.convert_extern (extern.convert_any (ref.i31 (i32.const -5))))))))))

  (func (export "casts") (param $k i32) (result i32)
    (local $r anyref) (local $hits i32)
    (loop $l
      (local.set $r (select (result anyref) (ref.i31 (local.get $k)) (struct.new $point (i32.const 1) (i32.const 2)) (i32.and (local.get $k) (i32.const 1))))
      (block $is_point (result (ref $point))
        (br_on_cast $is_point anyref (ref $point) (local.get $r))
        (block $not_i31 (param anyref) (result anyref)
          br_on_cast_fail $not_i31 anyref (ref i31)
          i31.get_u
          local.get $hits
          i32.add
          local.set $hits
          ref.null none)
        (drop)
        (struct.new $point (i32.const 0) (i32.const 0)))
      struct.get $point $y
      local.get $hits
      i32.add
      local.set $hits
      (local.set $hits (i32.add (local.get $hits) (ref.test (ref $point) (local.get $r))))
      (br_if $l (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    (local.get $hits))
)
