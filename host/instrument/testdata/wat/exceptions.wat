;; Exceptions: exnref (try_table, throw_ref) and the legacy form (try, catch, catch_all,
;; delegate, rethrow), thrown and caught inside loops.
(module
  (tag $odd (param i32))
  (tag $stop)
  (memory (export "memory") 1)

  (func $check (param $i i32)
    (if (i32.and (local.get $i) (i32.const 1)) (then (throw $odd (local.get $i)))))

  ;; Sum of odd numbers below n, each delivered by an exception (try_table).
  (func (export "new_sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (block $caught (result i32)
        (try_table (catch $odd $caught)
          (call $check (local.get $i)))
        (i32.const 0))
      (local.set $s (i32.add (local.get $s)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))

  ;; catch_ref / throw_ref / catch_all_ref: rethrow a caught exception one level up.
  (func (export "new_rethrow") (param $n i32) (result i32)
    (local $i i32) (local $count i32) (local $ex exnref)
    (loop $l
      (block $outer
        (block $all (result exnref)
          (try_table (catch_all_ref $all)
            (block $inner (result i32 exnref)
              (try_table (catch_ref $odd $inner)
                (call $check (local.get $i)))
              (br $outer))
            (local.set $ex)
            (drop)
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (throw_ref (local.get $ex)))
          (br $outer))
        (drop)
        (local.set $count (i32.add (local.get $count) (i32.const 100))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $count))

  ;; Legacy exceptions.
  (func (export "old_sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    loop $l
      try (result i32)
        local.get $i
        call $check
        i32.const 0
      catch $odd
      catch_all
        i32.const -1000
      end
      local.get $s
      i32.add
      local.set $s
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get $n
      i32.lt_u
      br_if $l
    end
    local.get $s)

  (func (export "old_delegate") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    loop $l
      try $outer
        try
          try
            local.get $i
            call $check
          delegate $outer
        catch_all
          i32.const 1000
          local.get $s
          i32.add
          local.set $s
        end
      catch $odd
        local.get $s
        i32.add
        local.set $s
      end
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get $n
      i32.lt_u
      br_if $l
    end
    local.get $s)

  (func (export "old_rethrow") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    loop $l
      try
        try
          local.get $i
          call $check
        catch $odd
          drop
          rethrow 0
        end
      catch_all
        local.get $s
        i32.const 1
        i32.add
        local.set $s
      end
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get $n
      i32.lt_u
      br_if $l
    end
    local.get $s)

  (func (export "uncaught") (throw $stop))
)
