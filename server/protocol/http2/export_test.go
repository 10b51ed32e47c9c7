package http2

// ScanFrames exposes the frame scanner to the fuzz test: it feeds chunks
// (with a preface skip of skip bytes) and returns the frame headers seen as
// (length, type, flags, stream) quadruples.
func ScanFrames(skip int, chunks [][]byte) [][4]uint32 {
	s := frameScanner{skip: skip}
	var out [][4]uint32
	for _, c := range chunks {
		_ = s.scan(c, func(h frameHeader, _ int) error {
			out = append(out, [4]uint32{h.length, uint32(h.typ), uint32(h.flags), h.stream})
			return nil
		})
	}
	return out
}

// RewriteDuplicateSettings exposes rewriteDuplicateSettings.
func RewriteDuplicateSettings(payload []byte) { rewriteDuplicateSettings(payload) }

// FilterBlocks passes chunks through a header-block filter (preface skip of
// skip bytes, 16 KiB frames) and returns its output.
func FilterBlocks(skip int, chunks [][]byte) []byte {
	f := newBlockFilter(skip, 1<<14, 0, nil)
	var out []byte
	for _, c := range chunks {
		c = append([]byte(nil), c...)
		var q []byte
		n := f.filter(c, &q, true)
		out = append(out, c[:n]...)
		out = append(out, q...)
	}
	return out
}
