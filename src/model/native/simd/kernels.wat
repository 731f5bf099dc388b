;; The native engine's elementwise and row-wise loops in WebAssembly SIMD (f32x4), for the ones a
;; CPU profile showed matter: GELU, layer norm and the attention softmaxes, forward beside
;; backward, and a decode step's whole attention. The same arithmetic
;; as ops.ts's JavaScript loops, which stay as the reference (test/model/native/simd.test.ts)
;; and as the fallback; here in float32 (JavaScript computes in float64 and rounds at the store),
;; so results differ from those loops in the last bits, and are the same run after run.
;;
;; Pointers are byte offsets into this module's memory (simd.ts copies arguments in and results
;; out; the decode's KV cache stays in its instance's memory). Counts: n is a multiple of 4
;; (simd.ts pads), C a multiple of 4 (simd.ts checks).
;; Built by `npm run build:wasm` (wabt's wat2wasm) into kernels.wasm and, on an imported shared
;; memory, kernels.shared.wasm (src/model/native/simd/compile.ts), which are committed; a test
;; rebuilds them and checks they agree.
(module
  (memory (export "memory") 1)

  ;; GELU, tanh form: s = (1 + tanh(k (v + c v^3))) / 2, y = v s; gate[i] = s (for the backward).
  ;; x, y, gate: n floats each (y may be x).
  (func (export "gelu_fwd") (param $x i32) (param $y i32) (param $gate i32) (param $n i32)
    (local $end i32) (local $v v128) (local $u v128) (local $u2 v128) (local $p v128) (local $q v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        ;; u = k (v + c v^3), clamped to [-7.9053, 7.9053] (beyond it tanh is +-1 in float32)
        (local.set $u
          (f32x4.mul (f32x4.splat (f32.const 0.7978845608028654))
            (f32x4.add (local.get $v)
              (f32x4.mul (f32x4.splat (f32.const 0.044715))
                (f32x4.mul (local.get $v) (f32x4.mul (local.get $v) (local.get $v)))))))
        (local.set $u (f32x4.pmax (f32x4.splat (f32.const -7.90531110763549805))
                      (f32x4.pmin (f32x4.splat (f32.const 7.90531110763549805)) (local.get $u))))
        ;; tanh(u) = p(u) / q(u): ops.ts's fastTanh (Eigen's float tanh), written out here because
        ;; V8 does not inline calls between WebAssembly functions
        (local.set $u2 (f32x4.mul (local.get $u) (local.get $u)))
        (local.set $p (f32x4.splat (f32.const -2.76076847742355e-16)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $u2) (local.get $p)) (f32x4.splat (f32.const 2.00018790482477e-13))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $u2) (local.get $p)) (f32x4.splat (f32.const -8.60467152213735e-11))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $u2) (local.get $p)) (f32x4.splat (f32.const 5.12229709037114e-8))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $u2) (local.get $p)) (f32x4.splat (f32.const 1.48572235717979e-5))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $u2) (local.get $p)) (f32x4.splat (f32.const 6.37261928875436e-4))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $u2) (local.get $p)) (f32x4.splat (f32.const 4.89352455891786e-3))))
        (local.set $p (f32x4.mul (local.get $u) (local.get $p)))
        (local.set $q (f32x4.splat (f32.const 1.19825839466702e-6)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $u2) (local.get $q)) (f32x4.splat (f32.const 1.18534705686654e-4))))
        (local.set $q (f32x4.add (f32x4.mul (local.get $u2) (local.get $q)) (f32x4.splat (f32.const 2.268434632439e-3))))
        (local.set $q (f32x4.add (f32x4.mul (local.get $u2) (local.get $q)) (f32x4.splat (f32.const 4.89352518554385e-3))))
        ;; s = (1 + tanh u) / 2
        (local.set $p (f32x4.mul (f32x4.splat (f32.const 0.5))
          (f32x4.add (f32x4.splat (f32.const 1)) (f32x4.div (local.get $p) (local.get $q)))))
        (v128.store (local.get $gate) (local.get $p))
        (v128.store (local.get $y) (f32x4.mul (local.get $v) (local.get $p)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $gate (i32.add (local.get $gate) (i32.const 16)))
        (br $next))))

  ;; a[i] += b[i] over n floats (n a multiple of 4): a decode step's residual adds, in place in the KV
  ;; cache's memory (decode.ts); float32 sums, as a Float32Array's a[i] += b[i] rounds them. Four
  ;; vectors a pass while sixteen floats remain (a loop's overhead in V8 is the body's size), then one.
  (func (export "add_into") (param $a i32) (param $b i32) (param $n i32)
    (local $end i32) (local $end16 i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $d4 (loop $l4
      (br_if $d4 (i32.ge_u (local.get $a) (local.get $end16)))
      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (v128.store offset=16 (local.get $a) (f32x4.add (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
      (v128.store offset=32 (local.get $a) (f32x4.add (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b))))
      (v128.store offset=48 (local.get $a) (f32x4.add (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 64)))
      (local.set $b (i32.add (local.get $b) (i32.const 64)))
      (br $l4)))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $a) (local.get $end)))
      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $l1))))

  ;; Its backward from the gate: dx = dy (s + 2 v s (1 - s) k (1 + 3 c v^2)). dx may be dy.
  (func (export "gelu_bwd") (param $dx i32) (param $dy i32) (param $x i32) (param $gate i32) (param $n i32)
    (local $end i32) (local $v v128) (local $s v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $s (v128.load (local.get $gate)))
        (v128.store (local.get $dx)
          (f32x4.mul (v128.load (local.get $dy))
            (f32x4.add (local.get $s)
              (f32x4.mul
                (f32x4.mul (f32x4.mul (f32x4.splat (f32.const 1.5957691216057308)) (local.get $v))
                           (f32x4.mul (local.get $s) (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $s))))
                (f32x4.add (f32x4.splat (f32.const 1))
                  (f32x4.mul (f32x4.splat (f32.const 0.134145)) (f32x4.mul (local.get $v) (local.get $v))))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $gate (i32.add (local.get $gate) (i32.const 16)))
        (br $next))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Layer norm of R rows of C: y = (x - mean) rstd g + b, rstd = 1 / sqrt(var + eps); keeps mean
  ;; and rstd per row (R floats each).
  (func (export "ln_fwd") (param $y i32) (param $mean i32) (param $rstd i32) (param $x i32) (param $g i32) (param $b i32) (param $R i32) (param $C i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $rowB i32) (local $acc v128) (local $d v128) (local $m f32) (local $rs f32) (local $mv v128) (local $rv v128)
    (local.set $rowB (i32.shl (local.get $C) (i32.const 2)))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $j) (local.get $rowB)))
          (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $x) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l1)))
        (local.set $m (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $C))))
        (local.set $mv (f32x4.splat (local.get $m)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $j) (local.get $rowB)))
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $mv)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l2)))
        (local.set $rs (f32.div (f32.const 1)
          (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $C))) (local.get $eps)))))
        (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (local.get $m))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (local.get $rs))
        (local.set $rv (f32x4.splat (local.get $rs)))
        (local.set $j (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_u (local.get $j) (local.get $rowB)))
          (v128.store (i32.add (local.get $y) (local.get $j))
            (f32x4.add
              (f32x4.mul
                (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $mv)) (local.get $rv))
                (v128.load (i32.add (local.get $g) (local.get $j))))
              (v128.load (i32.add (local.get $b) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l3)))
        (local.set $x (i32.add (local.get $x) (local.get $rowB)))
        (local.set $y (i32.add (local.get $y) (local.get $rowB)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Its backward: dx (+)= rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy g;
  ;; dg += dy xhat, db += dy (C floats each, accumulated over the rows).
  (func (export "ln_bwd") (param $dx i32) (param $dg i32) (param $db i32) (param $dy i32) (param $x i32) (param $mean i32) (param $rstd i32) (param $g i32) (param $R i32) (param $C i32) (param $accumulate i32)
    (local $r i32) (local $j i32) (local $rowB i32) (local $mv v128) (local $rv v128) (local $xh v128) (local $dyv v128) (local $d v128)
    (local $sD v128) (local $sDX v128) (local $mD v128) (local $mDX v128) (local $v v128)
    (local.set $rowB (i32.shl (local.get $C) (i32.const 2)))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $mv (v128.load32_splat (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $rv (v128.load32_splat (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $sD (v128.const f32x4 0 0 0 0))
        (local.set $sDX (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $j) (local.get $rowB)))
          (local.set $xh (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $mv)) (local.get $rv)))
          (local.set $dyv (v128.load (i32.add (local.get $dy) (local.get $j))))
          (local.set $d (f32x4.mul (local.get $dyv) (v128.load (i32.add (local.get $g) (local.get $j)))))
          (local.set $sD (f32x4.add (local.get $sD) (local.get $d)))
          (local.set $sDX (f32x4.add (local.get $sDX) (f32x4.mul (local.get $d) (local.get $xh))))
          (v128.store (i32.add (local.get $dg) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $dg) (local.get $j))) (f32x4.mul (local.get $dyv) (local.get $xh))))
          (v128.store (i32.add (local.get $db) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $db) (local.get $j))) (local.get $dyv)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l1)))
        (local.set $mD (f32x4.splat (f32.div (call $hsum (local.get $sD)) (f32.convert_i32_u (local.get $C)))))
        (local.set $mDX (f32x4.splat (f32.div (call $hsum (local.get $sDX)) (f32.convert_i32_u (local.get $C)))))
        (local.set $j (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $j) (local.get $rowB)))
          (local.set $xh (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $mv)) (local.get $rv)))
          (local.set $v
            (f32x4.mul (local.get $rv)
              (f32x4.sub
                (f32x4.sub
                  (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $j))) (v128.load (i32.add (local.get $g) (local.get $j))))
                  (local.get $mD))
                (f32x4.mul (local.get $xh) (local.get $mDX)))))
          (if (local.get $accumulate)
            (then (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $dx) (local.get $j)))))))
          (v128.store (i32.add (local.get $dx) (local.get $j)) (local.get $v))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l2)))
        (local.set $x (i32.add (local.get $x) (local.get $rowB)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowB)))
        (local.set $dx (i32.add (local.get $dx) (local.get $rowB)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Softmax rows of attention. A row's segments (the prefix's scores, then its own response's)
  ;; are gathered into a scratch row, padded to sixteen floats (the scratch holds len + 15),
  ;; normalised there together, and written back: one softmax over the row's segments, as
  ;; attention.ts's JavaScript loop does.
  ;; ---------------------------------------------------------------------------------------------

  (func $hmax (param $v v128) (result f32)
    (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Softmax in place over scr[0..len) (exp_scratch: scr holds len + 15 floats).
  (func $softmax_scratch (param $scr i32) (param $len i32)
    (local $p i32) (local $end i32) (local $inv v128)
    (local.set $inv (f32x4.splat (f32.div (f32.const 1) (call $exp_scratch (local.get $scr) (local.get $len)))))
    (local.set $end (i32.add (local.get $scr) (i32.shl (i32.and (i32.add (local.get $len) (i32.const 3)) (i32.const -4)) (i32.const 2))))
    (local.set $p (local.get $scr))
    (block $d3 (loop $l3
      (br_if $d3 (i32.ge_u (local.get $p) (local.get $end)))
      (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $inv)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $l3))))

  ;; scr[j] = exp(scr[j] - max) over scr[0..len), the rest of its last sixteen floats set to 0 (the
  ;; scratch holds len + 16); returns their sum. Four vectors a pass: each loop's overhead in V8
  ;; (a bounds and an interrupt check) cost as much as the body, and four exponentials in flight
  ;; hide their latency (npm run bench:kernels: 1.5x). The sum adds the vectors in order, as one
  ;; vector a pass would (the padding adds zeros): the same bits.
  (func $exp_scratch (param $scr i32) (param $len i32) (result f32)
    (local $end i32) (local $p i32) (local $mx v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $sum v128)
    (local $x0 v128) (local $xc0 v128) (local $n0 v128) (local $r0 v128) (local $e0 v128)
    (local $x1 v128) (local $xc1 v128) (local $n1 v128) (local $r1 v128) (local $e1 v128)
    (local $x2 v128) (local $xc2 v128) (local $n2 v128) (local $r2 v128) (local $e2 v128)
    (local $x3 v128) (local $xc3 v128) (local $n3 v128) (local $r3 v128) (local $e3 v128)
    (local.set $p (i32.add (local.get $scr) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $end (i32.add (local.get $scr) (i32.shl (i32.and (i32.add (local.get $len) (i32.const 15)) (i32.const -16)) (i32.const 2))))
    (block $d0 (loop $l0
      (br_if $d0 (i32.ge_u (local.get $p) (local.get $end)))
      (f32.store (local.get $p) (f32.const -inf))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l0)))
    (local.set $mx (f32x4.splat (f32.const -inf)))
    (local.set $m1 (local.get $mx))
    (local.set $m2 (local.get $mx))
    (local.set $m3 (local.get $mx))
    (local.set $p (local.get $scr))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $mx (f32x4.max (local.get $mx) (v128.load (local.get $p))))
      (local.set $m1 (f32x4.max (local.get $m1) (v128.load offset=16 (local.get $p))))
      (local.set $m2 (f32x4.max (local.get $m2) (v128.load offset=32 (local.get $p))))
      (local.set $m3 (f32x4.max (local.get $m3) (v128.load offset=48 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br $l1)))
    (local.set $mx (f32x4.splat (call $hmax (f32x4.max (f32x4.max (local.get $mx) (local.get $m1)) (f32x4.max (local.get $m2) (local.get $m3))))))
    (local.set $sum (v128.const f32x4 0 0 0 0))
    (local.set $p (local.get $scr))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $p) (local.get $end)))
      ;; e = exp(x - max), x - max <= 0 (-inf gives 0): x = n ln2 + r, |r| <= ln2/2, e^r by Cephes'
      ;; expf polynomial, 2^n from the exponent bits; below -87 (float32's smallest normal) 0.
      ;; Written out four times because V8 does not inline calls between WebAssembly functions.
      (local.set $x0 (f32x4.sub (v128.load (local.get $p)) (local.get $mx)))
      (local.set $xc0 (f32x4.pmax (f32x4.splat (f32.const -87)) (local.get $x0)))
      (local.set $n0 (f32x4.nearest (f32x4.mul (local.get $xc0) (f32x4.splat (f32.const 1.44269504088896341)))))
      (local.set $r0 (f32x4.sub (f32x4.sub (local.get $xc0)
        (f32x4.mul (local.get $n0) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $n0) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $e0 (f32x4.splat (f32.const 1.9875691500e-4)))
      (local.set $e0 (f32x4.add (f32x4.mul (local.get $e0) (local.get $r0)) (f32x4.splat (f32.const 1.3981999507e-3))))
      (local.set $e0 (f32x4.add (f32x4.mul (local.get $e0) (local.get $r0)) (f32x4.splat (f32.const 8.3334519073e-3))))
      (local.set $e0 (f32x4.add (f32x4.mul (local.get $e0) (local.get $r0)) (f32x4.splat (f32.const 4.1665795894e-2))))
      (local.set $e0 (f32x4.add (f32x4.mul (local.get $e0) (local.get $r0)) (f32x4.splat (f32.const 1.6666665459e-1))))
      (local.set $e0 (f32x4.add (f32x4.mul (local.get $e0) (local.get $r0)) (f32x4.splat (f32.const 5.0000001201e-1))))
      (local.set $e0 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e0) (local.get $r0)) (local.get $r0)) (local.get $r0)) (f32x4.splat (f32.const 1))))
      (local.set $e0
        (v128.andnot
          (f32x4.mul (local.get $e0)
            (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n0)) (i32x4.splat (i32.const 127))) (i32.const 23)))
          (f32x4.lt (local.get $x0) (f32x4.splat (f32.const -87)))))
      (v128.store (local.get $p) (local.get $e0))
      (local.set $x1 (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $mx)))
      (local.set $xc1 (f32x4.pmax (f32x4.splat (f32.const -87)) (local.get $x1)))
      (local.set $n1 (f32x4.nearest (f32x4.mul (local.get $xc1) (f32x4.splat (f32.const 1.44269504088896341)))))
      (local.set $r1 (f32x4.sub (f32x4.sub (local.get $xc1)
        (f32x4.mul (local.get $n1) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $n1) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $e1 (f32x4.splat (f32.const 1.9875691500e-4)))
      (local.set $e1 (f32x4.add (f32x4.mul (local.get $e1) (local.get $r1)) (f32x4.splat (f32.const 1.3981999507e-3))))
      (local.set $e1 (f32x4.add (f32x4.mul (local.get $e1) (local.get $r1)) (f32x4.splat (f32.const 8.3334519073e-3))))
      (local.set $e1 (f32x4.add (f32x4.mul (local.get $e1) (local.get $r1)) (f32x4.splat (f32.const 4.1665795894e-2))))
      (local.set $e1 (f32x4.add (f32x4.mul (local.get $e1) (local.get $r1)) (f32x4.splat (f32.const 1.6666665459e-1))))
      (local.set $e1 (f32x4.add (f32x4.mul (local.get $e1) (local.get $r1)) (f32x4.splat (f32.const 5.0000001201e-1))))
      (local.set $e1 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e1) (local.get $r1)) (local.get $r1)) (local.get $r1)) (f32x4.splat (f32.const 1))))
      (local.set $e1
        (v128.andnot
          (f32x4.mul (local.get $e1)
            (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n1)) (i32x4.splat (i32.const 127))) (i32.const 23)))
          (f32x4.lt (local.get $x1) (f32x4.splat (f32.const -87)))))
      (v128.store offset=16 (local.get $p) (local.get $e1))
      (local.set $x2 (f32x4.sub (v128.load offset=32 (local.get $p)) (local.get $mx)))
      (local.set $xc2 (f32x4.pmax (f32x4.splat (f32.const -87)) (local.get $x2)))
      (local.set $n2 (f32x4.nearest (f32x4.mul (local.get $xc2) (f32x4.splat (f32.const 1.44269504088896341)))))
      (local.set $r2 (f32x4.sub (f32x4.sub (local.get $xc2)
        (f32x4.mul (local.get $n2) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $n2) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $e2 (f32x4.splat (f32.const 1.9875691500e-4)))
      (local.set $e2 (f32x4.add (f32x4.mul (local.get $e2) (local.get $r2)) (f32x4.splat (f32.const 1.3981999507e-3))))
      (local.set $e2 (f32x4.add (f32x4.mul (local.get $e2) (local.get $r2)) (f32x4.splat (f32.const 8.3334519073e-3))))
      (local.set $e2 (f32x4.add (f32x4.mul (local.get $e2) (local.get $r2)) (f32x4.splat (f32.const 4.1665795894e-2))))
      (local.set $e2 (f32x4.add (f32x4.mul (local.get $e2) (local.get $r2)) (f32x4.splat (f32.const 1.6666665459e-1))))
      (local.set $e2 (f32x4.add (f32x4.mul (local.get $e2) (local.get $r2)) (f32x4.splat (f32.const 5.0000001201e-1))))
      (local.set $e2 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e2) (local.get $r2)) (local.get $r2)) (local.get $r2)) (f32x4.splat (f32.const 1))))
      (local.set $e2
        (v128.andnot
          (f32x4.mul (local.get $e2)
            (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n2)) (i32x4.splat (i32.const 127))) (i32.const 23)))
          (f32x4.lt (local.get $x2) (f32x4.splat (f32.const -87)))))
      (v128.store offset=32 (local.get $p) (local.get $e2))
      (local.set $x3 (f32x4.sub (v128.load offset=48 (local.get $p)) (local.get $mx)))
      (local.set $xc3 (f32x4.pmax (f32x4.splat (f32.const -87)) (local.get $x3)))
      (local.set $n3 (f32x4.nearest (f32x4.mul (local.get $xc3) (f32x4.splat (f32.const 1.44269504088896341)))))
      (local.set $r3 (f32x4.sub (f32x4.sub (local.get $xc3)
        (f32x4.mul (local.get $n3) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $n3) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $e3 (f32x4.splat (f32.const 1.9875691500e-4)))
      (local.set $e3 (f32x4.add (f32x4.mul (local.get $e3) (local.get $r3)) (f32x4.splat (f32.const 1.3981999507e-3))))
      (local.set $e3 (f32x4.add (f32x4.mul (local.get $e3) (local.get $r3)) (f32x4.splat (f32.const 8.3334519073e-3))))
      (local.set $e3 (f32x4.add (f32x4.mul (local.get $e3) (local.get $r3)) (f32x4.splat (f32.const 4.1665795894e-2))))
      (local.set $e3 (f32x4.add (f32x4.mul (local.get $e3) (local.get $r3)) (f32x4.splat (f32.const 1.6666665459e-1))))
      (local.set $e3 (f32x4.add (f32x4.mul (local.get $e3) (local.get $r3)) (f32x4.splat (f32.const 5.0000001201e-1))))
      (local.set $e3 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e3) (local.get $r3)) (local.get $r3)) (local.get $r3)) (f32x4.splat (f32.const 1))))
      (local.set $e3
        (v128.andnot
          (f32x4.mul (local.get $e3)
            (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n3)) (i32x4.splat (i32.const 127))) (i32.const 23)))
          (f32x4.lt (local.get $x3) (f32x4.splat (f32.const -87)))))
      (v128.store offset=48 (local.get $p) (local.get $e3))
      (local.set $sum (f32x4.add (f32x4.add (f32x4.add (f32x4.add (local.get $sum) (local.get $e0)) (local.get $e1)) (local.get $e2)) (local.get $e3)))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br $l2)))
    (call $hsum (local.get $sum)))

  ;; One softmax over a[0..la) and b[0..lb) together, in place.
  (func $softmax2 (param $a i32) (param $la i32) (param $b i32) (param $lb i32) (param $scr i32)
    (local $ba i32) (local $bb i32)
    (local.set $ba (i32.shl (local.get $la) (i32.const 2)))
    (local.set $bb (i32.shl (local.get $lb) (i32.const 2)))
    (memory.copy (local.get $scr) (local.get $a) (local.get $ba))
    (memory.copy (i32.add (local.get $scr) (local.get $ba)) (local.get $b) (local.get $bb))
    (call $softmax_scratch (local.get $scr) (i32.add (local.get $la) (local.get $lb)))
    (memory.copy (local.get $a) (local.get $scr) (local.get $ba))
    (memory.copy (local.get $b) (i32.add (local.get $scr) (local.get $ba)) (local.get $bb)))

  ;; The prefix's [S, S] block: row i over columns 0..i (causal) or all S; the rest set to 0.
  (func (export "attn_prefix_fwd") (param $pp i32) (param $S i32) (param $causal i32) (param $scr i32)
    (local $i i32) (local $len i32) (local $row i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $S)))
      (local.set $row (i32.add (local.get $pp) (i32.shl (i32.mul (local.get $i) (local.get $S)) (i32.const 2))))
      (local.set $len (select (i32.add (local.get $i) (i32.const 1)) (local.get $S) (local.get $causal)))
      (call $softmax2 (local.get $row) (local.get $len) (local.get $row) (i32.const 0) (local.get $scr))
      (memory.fill (i32.add (local.get $row) (i32.shl (local.get $len) (i32.const 2))) (i32.const 0)
        (i32.shl (i32.sub (local.get $S) (local.get $len)) (i32.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; One response of n rows: row i's scores against the prefix (sp, row i of [n, S]) and, causally,
  ;; against its own response (ss, row i of [n, n], columns 0..i; the rest set to 0).
  (func (export "attn_resp_fwd") (param $sp i32) (param $ss i32) (param $S i32) (param $n i32) (param $scr i32)
    (local $i i32) (local $row i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $row (i32.add (local.get $ss) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2))))
      (call $softmax2 (i32.add (local.get $sp) (i32.shl (i32.mul (local.get $i) (local.get $S)) (i32.const 2))) (local.get $S)
        (local.get $row) (i32.add (local.get $i) (i32.const 1)) (local.get $scr))
      (memory.fill (i32.add (local.get $row) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2))) (i32.const 0)
        (i32.shl (i32.sub (i32.sub (local.get $n) (local.get $i)) (i32.const 1)) (i32.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; Softmax backward over the segments a, b of one row, in place on the gradients:
  ;; d <- p (d - sum_j p_j d_j). p and d are gathered into two scratch rows padded with zeros.
  (func $softmax2_bwd (param $pa i32) (param $da i32) (param $la i32) (param $pb i32) (param $db i32) (param $lb i32) (param $scr i32)
    (local $ba i32) (local $bb i32) (local $sd i32) (local $end i32) (local $q i32) (local $dot v128) (local $p v128)
    (local.set $ba (i32.shl (local.get $la) (i32.const 2)))
    (local.set $bb (i32.shl (local.get $lb) (i32.const 2)))
    (local.set $end (i32.shl (i32.and (i32.add (i32.add (local.get $la) (local.get $lb)) (i32.const 3)) (i32.const -4)) (i32.const 2)))
    (local.set $sd (i32.add (local.get $scr) (local.get $end)))
    (memory.copy (local.get $scr) (local.get $pa) (local.get $ba))
    (memory.copy (i32.add (local.get $scr) (local.get $ba)) (local.get $pb) (local.get $bb))
    (memory.copy (local.get $sd) (local.get $da) (local.get $ba))
    (memory.copy (i32.add (local.get $sd) (local.get $ba)) (local.get $db) (local.get $bb))
    (memory.fill (i32.add (local.get $scr) (i32.add (local.get $ba) (local.get $bb))) (i32.const 0)
      (i32.sub (local.get $end) (i32.add (local.get $ba) (local.get $bb))))
    (memory.fill (i32.add (local.get $sd) (i32.add (local.get $ba) (local.get $bb))) (i32.const 0)
      (i32.sub (local.get $end) (i32.add (local.get $ba) (local.get $bb))))
    (local.set $dot (v128.const f32x4 0 0 0 0))
    (local.set $q (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $q) (local.get $end)))
      (local.set $dot (f32x4.add (local.get $dot)
        (f32x4.mul (v128.load (i32.add (local.get $scr) (local.get $q))) (v128.load (i32.add (local.get $sd) (local.get $q))))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br $l1)))
    (local.set $dot (f32x4.splat (call $hsum (local.get $dot))))
    (local.set $q (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $q) (local.get $end)))
      (local.set $p (v128.load (i32.add (local.get $scr) (local.get $q))))
      (v128.store (i32.add (local.get $sd) (local.get $q))
        (f32x4.mul (local.get $p) (f32x4.sub (v128.load (i32.add (local.get $sd) (local.get $q))) (local.get $dot))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br $l2)))
    (memory.copy (local.get $da) (local.get $sd) (local.get $ba))
    (memory.copy (local.get $db) (i32.add (local.get $sd) (local.get $ba)) (local.get $bb)))

  ;; The prefix block's backward: dp (row-major [S, S]) becomes dS, row by row over all S columns.
  (func (export "attn_prefix_bwd") (param $pp i32) (param $dp i32) (param $S i32) (param $scr i32)
    (local $i i32) (local $o i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $S)))
      (local.set $o (i32.shl (i32.mul (local.get $i) (local.get $S)) (i32.const 2)))
      (call $softmax2_bwd (i32.add (local.get $pp) (local.get $o)) (i32.add (local.get $dp) (local.get $o)) (local.get $S)
        (local.get $pp) (local.get $dp) (i32.const 0) (local.get $scr))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; One response's backward: rows i of sp/dsp ([n, S]) and ss/dss ([n, n], columns 0..i; the
  ;; rest of dss set to 0).
  (func (export "attn_resp_bwd") (param $sp i32) (param $dsp i32) (param $ss i32) (param $dss i32) (param $S i32) (param $n i32) (param $scr i32)
    (local $i i32) (local $a i32) (local $b i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $a (i32.shl (i32.mul (local.get $i) (local.get $S)) (i32.const 2)))
      (local.set $b (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2)))
      (call $softmax2_bwd (i32.add (local.get $sp) (local.get $a)) (i32.add (local.get $dsp) (local.get $a)) (local.get $S)
        (i32.add (local.get $ss) (local.get $b)) (i32.add (local.get $dss) (local.get $b)) (i32.add (local.get $i) (i32.const 1)) (local.get $scr))
      (memory.fill (i32.add (local.get $dss) (i32.add (local.get $b) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)))) (i32.const 0)
        (i32.shl (i32.sub (i32.sub (local.get $n) (local.get $i)) (i32.const 1)) (i32.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

;; ---------------------------------------------------------------------------------------------
  ;; A decode step's attention, whole: decode.ts's KV cache lives in this module's memory (its own
  ;; instance), so a layer's attention for every open row is one call and touches only the keys a
  ;; row may see: its group's prefix and its own response's columns 0..t (no masked products).
  ;; Layout (decode.ts KvCache; keys and values in separate regions): per (group, head) the
  ;; prefix's keys kT [D, Sp] and values [Sp, D] (Sp = S rounded up to 4); per response, tiles of
  ;; sixteen columns with all heads together (T, the column capacity, a multiple of 16).
  ;; ---------------------------------------------------------------------------------------------

  ;; out[j] = sum_d qs[d] kT[d ld + j] for j < 4 blocks: qs D splatted query values (a v128 each),
  ;; kT and out byte pointers, ld kT's row stride in bytes. Sixteen keys at a time, then four.
  (func $scores (param $qs i32) (param $kT i32) (param $ld i32) (param $blocks i32) (param $D i32) (param $out i32)
    (local $b i32) (local $q i32) (local $k i32) (local $qend i32) (local $qv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $qend (i32.add (local.get $qs) (i32.shl (local.get $D) (i32.const 4))))
    (block $d16 (loop $l16
      (br_if $d16 (i32.lt_s (i32.sub (local.get $blocks) (local.get $b)) (i32.const 4)))
      (local.set $a0 (v128.const f32x4 0 0 0 0))
      (local.set $a1 (v128.const f32x4 0 0 0 0))
      (local.set $a2 (v128.const f32x4 0 0 0 0))
      (local.set $a3 (v128.const f32x4 0 0 0 0))
      (local.set $q (local.get $qs))
      (local.set $k (i32.add (local.get $kT) (i32.shl (local.get $b) (i32.const 4))))
      (loop $ld16
        (local.set $qv (v128.load (local.get $q)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qv) (v128.load (local.get $k)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $qv) (v128.load offset=16 (local.get $k)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $qv) (v128.load offset=32 (local.get $k)))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $qv) (v128.load offset=48 (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (local.get $ld)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br_if $ld16 (i32.lt_u (local.get $q) (local.get $qend))))
      (local.set $k (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 4))))
      (v128.store (local.get $k) (local.get $a0))
      (v128.store offset=16 (local.get $k) (local.get $a1))
      (v128.store offset=32 (local.get $k) (local.get $a2))
      (v128.store offset=48 (local.get $k) (local.get $a3))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (br $l16)))
    (block $d4 (loop $l4
      (br_if $d4 (i32.ge_s (local.get $b) (local.get $blocks)))
      (local.set $a0 (v128.const f32x4 0 0 0 0))
      (local.set $q (local.get $qs))
      (local.set $k (i32.add (local.get $kT) (i32.shl (local.get $b) (i32.const 4))))
      (loop $ld4
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $q)) (v128.load (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (local.get $ld)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br_if $ld4 (i32.lt_u (local.get $q) (local.get $qend))))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 4))) (local.get $a0))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $l4))))

  ;; out[d] (+)= sum_j p[j] v[j D + d] over j < n (acc: add to out, else overwrite). D a
  ;; multiple of 16, sixteen outputs at a time.
  (func $pv (param $out i32) (param $p i32) (param $v i32) (param $n i32) (param $D i32) (param $acc i32)
    (local $db i32) (local $d i32) (local $q i32) (local $qend i32) (local $w i32) (local $pv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $db (i32.shl (local.get $D) (i32.const 2)))
    (local.set $qend (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $dd (loop $ld
      (br_if $dd (i32.ge_u (local.get $d) (local.get $db)))
      (local.set $w (i32.add (local.get $out) (local.get $d)))
      (if (local.get $acc)
        (then
          (local.set $a0 (v128.load (local.get $w)))
          (local.set $a1 (v128.load offset=16 (local.get $w)))
          (local.set $a2 (v128.load offset=32 (local.get $w)))
          (local.set $a3 (v128.load offset=48 (local.get $w))))
        (else
          (local.set $a0 (v128.const f32x4 0 0 0 0))
          (local.set $a1 (v128.const f32x4 0 0 0 0))
          (local.set $a2 (v128.const f32x4 0 0 0 0))
          (local.set $a3 (v128.const f32x4 0 0 0 0))))
      (local.set $q (local.get $p))
      (local.set $w (i32.add (local.get $v) (local.get $d)))
      (block $dj (loop $lj
        (br_if $dj (i32.ge_u (local.get $q) (local.get $qend)))
        (local.set $pv (v128.load32_splat (local.get $q)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $pv) (v128.load (local.get $w)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $pv) (v128.load offset=16 (local.get $w)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $pv) (v128.load offset=32 (local.get $w)))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $pv) (v128.load offset=48 (local.get $w)))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (local.get $db)))
        (br $lj)))
      (local.set $w (i32.add (local.get $out) (local.get $d)))
      (v128.store (local.get $w) (local.get $a0))
      (v128.store offset=16 (local.get $w) (local.get $a1))
      (v128.store offset=32 (local.get $w) (local.get $a2))
      (v128.store offset=48 (local.get $w) (local.get $a3))
      (local.set $d (i32.add (local.get $d) (i32.const 64)))
      (br $ld))))

  ;; One layer's attention for A open rows (decode.ts `decodeAttentionJs` is the same in
  ;; JavaScript). qkv [A, 3C] and att [A, C] are floats at byte offsets; rows holds three i32 per
  ;; row: its group's block and its response's block (float offsets from kbase / vbase) and its
  ;; prefix length S. The prefix is per head: keys kT [D, Sp], values [Sp, D]. A response's
  ;; columns are tiles of sixteen, all heads together, so that a step reads its row's keys and
  ;; values as two runs of whole tiles (the tiles up to column t), front to back: keys [T/16][C][16]
  ;; (channel c of the tile's columns: 64 bytes), values [T/16][H][16][D]. Row i's new key and
  ;; value go to column t; then per head the scores alpha q.k over the prefix and columns 0..t, one
  ;; softmax over both, and the output. Scratch: qs (C v128: the splatted scaled query), sc (H
  ;; score rows, ls floats apart, then H floats).
  (func (export "decode_attn") (param $qkv i32) (param $att i32) (param $rows i32) (param $A i32) (param $H i32) (param $D i32)
    (param $t i32) (param $T i32) (param $alpha f32) (param $kbase i32) (param $vbase i32) (param $qs i32) (param $sc i32) (param $ls i32)
    (local $i i32) (local $h i32) (local $c i32) (local $j i32) (local $C i32) (local $S i32) (local $Sp i32) (local $q i32) (local $row i32)
    (local $kp i32) (local $kr i32) (local $vp i32) (local $vr i32) (local $o i32) (local $tile i32) (local $last i32) (local $col i32)
    (local $lsb i32) (local $inv i32) (local $out i32) (local $db i32) (local $n i32) (local $sv v128) (local $pf f32)
    (local.set $C (i32.mul (local.get $H) (local.get $D)))
    (local.set $db (i32.shl (local.get $D) (i32.const 2)))
    (local.set $tile (i32.shl (local.get $C) (i32.const 6))) ;; bytes of a tile: 16 columns x C floats
    (local.set $last (i32.shr_u (local.get $t) (i32.const 4)))
    (local.set $col (i32.and (local.get $t) (i32.const 15)))
    (local.set $lsb (i32.shl (local.get $ls) (i32.const 2)))
    (local.set $inv (i32.add (local.get $sc) (i32.mul (local.get $H) (local.get $lsb))))
    (block $di (loop $li
      (br_if $di (i32.ge_u (local.get $i) (local.get $A)))
      (local.set $row (i32.add (local.get $rows) (i32.mul (local.get $i) (i32.const 12))))
      (local.set $kp (i32.add (local.get $kbase) (i32.shl (i32.load (local.get $row)) (i32.const 2))))
      (local.set $kr (i32.add (local.get $kbase) (i32.shl (i32.load offset=4 (local.get $row)) (i32.const 2))))
      (local.set $vp (i32.add (local.get $vbase) (i32.shl (i32.load (local.get $row)) (i32.const 2))))
      (local.set $vr (i32.add (local.get $vbase) (i32.shl (i32.load offset=4 (local.get $row)) (i32.const 2))))
      (local.set $S (i32.load offset=8 (local.get $row)))
      (local.set $Sp (i32.and (i32.add (local.get $S) (i32.const 3)) (i32.const -4)))
      ;; touch the next row's tiles, one load a cache line, so that their misses (the cache is tens of
      ;; MB: they come from memory) overlap this row's arithmetic; WebAssembly has no prefetch.
      ;; 15% faster at 160 rows (bench:kernels); the loads' sum is stored at the end (scratch) so
      ;; that the compiler keeps them
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $A))
        (then
          ;; o: the next row's response block; j runs over its key tiles, the value tiles are
          ;; vbase - kbase further
          (local.set $o (i32.sub (local.get $vbase) (local.get $kbase)))
          (local.set $j (i32.add (local.get $kbase) (i32.shl (i32.load offset=16 (local.get $row)) (i32.const 2))))
          (local.set $n (i32.add (local.get $j) (i32.mul (i32.add (local.get $last) (i32.const 1)) (local.get $tile))))
          (block $dpf (loop $lpf
            (br_if $dpf (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $pf (f32.add (local.get $pf) (f32.add (f32.load (local.get $j)) (f32.load (i32.add (local.get $j) (local.get $o))))))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $lpf)))))
      (local.set $q (i32.add (local.get $qkv) (i32.shl (i32.mul (local.get $i) (i32.mul (local.get $C) (i32.const 3))) (i32.const 2))))
      (local.set $out (i32.add (local.get $att) (i32.shl (i32.mul (local.get $i) (local.get $C)) (i32.const 2))))
      ;; the new key into column t of the last tile (channel c 64 bytes apart), the scaled query
      ;; splatted into qs, the new value into row t of each head's part of the last value tile
      (local.set $o (i32.add (i32.add (local.get $kr) (i32.mul (local.get $last) (local.get $tile))) (i32.shl (local.get $col) (i32.const 2))))
      (local.set $c (i32.const 0))
      (block $dc (loop $lc
        (br_if $dc (i32.ge_u (local.get $c) (local.get $C)))
        (f32.store (i32.add (local.get $o) (i32.shl (local.get $c) (i32.const 6)))
          (f32.load (i32.add (local.get $q) (i32.shl (i32.add (local.get $C) (local.get $c)) (i32.const 2)))))
        (v128.store (i32.add (local.get $qs) (i32.shl (local.get $c) (i32.const 4)))
          (f32x4.splat (f32.mul (local.get $alpha) (f32.load (i32.add (local.get $q) (i32.shl (local.get $c) (i32.const 2)))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $lc)))
      (local.set $h (i32.const 0))
      (block $dh0 (loop $lh0
        (br_if $dh0 (i32.ge_u (local.get $h) (local.get $H)))
        (memory.copy
          (i32.add (i32.add (local.get $vr) (i32.mul (local.get $last) (local.get $tile)))
            (i32.mul (i32.add (i32.shl (local.get $h) (i32.const 4)) (local.get $col)) (local.get $db)))
          (i32.add (local.get $q) (i32.shl (i32.add (i32.shl (local.get $C) (i32.const 1)) (i32.mul (local.get $h) (local.get $D))) (i32.const 2)))
          (local.get $db))
        ;; the prefix's scores
        (call $scores (i32.add (local.get $qs) (i32.shl (i32.mul (local.get $h) (local.get $D)) (i32.const 4)))
          (i32.add (local.get $kp) (i32.mul (i32.mul (local.get $h) (local.get $Sp)) (local.get $db)))
          (i32.shl (local.get $Sp) (i32.const 2)) (i32.shr_u (local.get $Sp) (i32.const 2))
          (local.get $D) (i32.add (local.get $sc) (i32.mul (local.get $h) (local.get $lsb))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $lh0)))
      ;; the response's scores, tile by tile, heads inner (blocks of four columns up to t)
      (local.set $j (i32.const 0))
      (block $dj (loop $lj
        (br_if $dj (i32.gt_u (local.get $j) (local.get $last)))
        (local.set $n (i32.sub (i32.shr_u (i32.add (local.get $t) (i32.const 4)) (i32.const 2)) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $n (select (i32.const 4) (local.get $n) (i32.gt_s (local.get $n) (i32.const 4))))
        (local.set $h (i32.const 0))
        (block $dh1 (loop $lh1
          (br_if $dh1 (i32.ge_u (local.get $h) (local.get $H)))
          (call $scores (i32.add (local.get $qs) (i32.shl (i32.mul (local.get $h) (local.get $D)) (i32.const 4)))
            (i32.add (i32.add (local.get $kr) (i32.mul (local.get $j) (local.get $tile))) (i32.shl (i32.mul (local.get $h) (local.get $D)) (i32.const 6)))
            (i32.const 64) (local.get $n) (local.get $D)
            (i32.add (i32.add (local.get $sc) (i32.mul (local.get $h) (local.get $lsb))) (i32.shl (i32.add (local.get $S) (i32.shl (local.get $j) (i32.const 4))) (i32.const 2))))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br $lh1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      ;; per head: the exponentials (their sum's inverse kept), and the prefix's share of the output
      (local.set $h (i32.const 0))
      (block $dh2 (loop $lh2
        (br_if $dh2 (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $o (i32.add (local.get $sc) (i32.mul (local.get $h) (local.get $lsb))))
        (f32.store (i32.add (local.get $inv) (i32.shl (local.get $h) (i32.const 2)))
          (f32.div (f32.const 1) (call $exp_scratch (local.get $o) (i32.add (local.get $S) (i32.add (local.get $t) (i32.const 1))))))
        (call $pv (i32.add (local.get $out) (i32.mul (local.get $h) (local.get $db))) (local.get $o)
          (i32.add (local.get $vp) (i32.mul (i32.mul (local.get $h) (local.get $Sp)) (local.get $db))) (local.get $S) (local.get $D) (i32.const 0))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $lh2)))
      ;; the response's share, tile by tile, heads inner
      (local.set $j (i32.const 0))
      (block $dj2 (loop $lj2
        (br_if $dj2 (i32.gt_u (local.get $j) (local.get $last)))
        (local.set $n (select (i32.add (local.get $col) (i32.const 1)) (i32.const 16) (i32.eq (local.get $j) (local.get $last))))
        (local.set $h (i32.const 0))
        (block $dh3 (loop $lh3
          (br_if $dh3 (i32.ge_u (local.get $h) (local.get $H)))
          (call $pv (i32.add (local.get $out) (i32.mul (local.get $h) (local.get $db)))
            (i32.add (i32.add (local.get $sc) (i32.mul (local.get $h) (local.get $lsb))) (i32.shl (i32.add (local.get $S) (i32.shl (local.get $j) (i32.const 4))) (i32.const 2)))
            (i32.add (i32.add (local.get $vr) (i32.mul (local.get $j) (local.get $tile))) (i32.shl (i32.mul (i32.shl (local.get $h) (i32.const 4)) (local.get $D)) (i32.const 2)))
            (local.get $n) (local.get $D) (i32.const 1))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br $lh3)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj2)))
      ;; normalise: each head's output times its inverse sum (o runs over the row's C outputs)
      (local.set $o (local.get $out))
      (local.set $h (i32.const 0))
      (block $dn (loop $ln
        (br_if $dn (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $n (i32.add (local.get $o) (local.get $db)))
        (local.set $sv (v128.load32_splat (i32.add (local.get $inv) (i32.shl (local.get $h) (i32.const 2)))))
        (block $dd (loop $ld
          (br_if $dd (i32.ge_u (local.get $o) (local.get $n)))
          (v128.store (local.get $o) (f32x4.mul (v128.load (local.get $o)) (local.get $sv)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br $ld)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $ln)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $li)))
    (f32.store (local.get $inv) (local.get $pf)))
)
