// The (row tile, column tile) of a prefill GEMM workgroup (matmul_coopmat.comp,
// matmul_cm2.comp). The host's grid is x (+ z * groups_x) over row tiles, y
// over column tiles. Rows first (the grid's own order): workgroups launched
// one after another take the same columns of X and successive weight rows.
// Columns first: they take the column tiles of one row block in turn, so
// each weight tile is read from memory once while the few tiles of X stay
// in the cache; the grid is walked as a line and cut into rows of the
// column-tile count (ids past the row tiles return, as before).
uvec2 gemm_tile(bool cols_first) {
  if (!cols_first) return uvec2(gl_WorkGroupID.x + gl_WorkGroupID.z * pc.groups_x, gl_WorkGroupID.y);
  const uint cols = gl_NumWorkGroups.y;
  const uint id = gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + cols * gl_WorkGroupID.z);
  return uvec2(id / cols, id % cols);
}
