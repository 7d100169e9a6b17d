(module
  ;; Two 64 KiB pages: one block of up to 65 536 payload bytes at offset 0, and room for the
  ;; 16-byte steps to run past the end of a block that is not a multiple of 16.
  (memory (export "memory") 2 2)
  ;; XORs bytes [0, len) of memory with `key` repeated (WebAssembly is little-endian: the key's low byte
  ;; applies to byte 0). Works in 16-byte steps, four at a time; bytes past len up to the next multiple of
  ;; 16 are changed too (scratch).
  (func (export "mask") (param $len i32) (param $key i32)
    (local $i i32)
    (local $k v128)
    (local $end64 i32)
    (local.set $k (i32x4.splat (local.get $key)))
    (local.set $end64 (i32.and (local.get $len) (i32.const -64)))
    (block $done64
      (loop $step64
        (br_if $done64 (i32.ge_u (local.get $i) (local.get $end64)))
        (v128.store offset=0 (local.get $i) (v128.xor (v128.load offset=0 (local.get $i)) (local.get $k)))
        (v128.store offset=16 (local.get $i) (v128.xor (v128.load offset=16 (local.get $i)) (local.get $k)))
        (v128.store offset=32 (local.get $i) (v128.xor (v128.load offset=32 (local.get $i)) (local.get $k)))
        (v128.store offset=48 (local.get $i) (v128.xor (v128.load offset=48 (local.get $i)) (local.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $step64)))
    (block $done16
      (loop $step16
        (br_if $done16 (i32.ge_u (local.get $i) (local.get $len)))
        (v128.store (local.get $i) (v128.xor (v128.load (local.get $i)) (local.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step16))))
)
