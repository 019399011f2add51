// KV cache rows as the attention kernels read them. A cache is
// [n_ctx][n_kv_heads * head_dim] values, row-major, stored as
//   KV_F16: fp16, two per uint (element 2i in the low half), head_dim even;
//   else:   fp32.
// One KV_WORD holds a pair of adjacent elements (2i, 2i + 1) of a row:
// pair p of row r is word r * (row elements / 2) + p.
#ifdef KV_F16
#define KV_WORD uint
vec2 kv_unpack(uint w) { return unpackHalf2x16(w); }
uint kv_pack(vec2 v) { return packHalf2x16(v); }
#else
#define KV_WORD vec2
vec2 kv_unpack(vec2 w) { return w; }
vec2 kv_pack(vec2 v) { return v; }
#endif
