// The integer-dot GEMV's arithmetic (matvec_idot.comp, matvec_idot_norm.comp):
// one 16-byte weight granule (weights.glsl) against the 8-bit activations
// of its block (quantize_block.glsl), d = the weight block's (d, m).
// Needs GL_EXT_integer_dot_product.
//   Q8_0: a granule is half a block (xa its 16 values; m = 0, so the s term
//         is not needed): d_w * d_x * sum q_w q_x.
//   Q4_0 / Q4_1: byte c of word i holds element 4i + c in its low nibble and
//         16 + 4i + c in its high one (xa, xb the block's two halves):
//         d_w * d_x * sum q_w q_x + m_w * s_x.
float idot_granule(uvec4 wv, vec2 d, uvec4 xa, uvec4 xb, vec2 xds) {
  int isum = 0;
#if defined(WTYPE_Q8_0)
  for (uint c = 0; c < 4; ++c) isum += dotPacked4x8EXT(int(wv[c]), int(xa[c]));
  return d.x * xds.x * float(isum);
#else
  for (uint c = 0; c < 4; ++c) {
    isum += dotPacked4x8EXT(int(wv[c] & 0x0F0F0F0Fu), int(xa[c]));
    isum += dotPacked4x8EXT(int((wv[c] >> 4) & 0x0F0F0F0Fu), int(xb[c]));
  }
  return d.x * xds.x * float(isum) + d.y * xds.y;
#endif
}
