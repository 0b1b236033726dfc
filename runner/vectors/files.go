package vectors

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// The SIFT file formats (corpus-texmex.irisa.fr): each vector is a
// little-endian int32 dimension d followed by d components — float32 in
// .fvecs, int32 in .ivecs (ground-truth neighbour ids), uint8 in .bvecs.
// Every vector of a file has the same dimension.

// MaxDim bounds the dimension a vector file may declare: a larger one is
// a damaged or foreign file, refused before anything is allocated.
const MaxDim = 1 << 16

// ReadFvecs reads up to limit vectors (0: all) of an .fvecs stream into
// one flat slice, vector after vector, and returns their dimension. A
// NaN or infinite component is an error.
func ReadFvecs(r io.Reader, limit int) (flat []float32, dim int, err error) {
	dim, err = readVecs(r, limit, 4, func(b []byte) error {
		for i := 0; i < len(b); i += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("component %d is %v", i/4, v)
			}
			flat = append(flat, v)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return flat, dim, nil
}

// ReadBvecs reads up to limit vectors (0: all) of a .bvecs stream (uint8
// components) as float32.
func ReadBvecs(r io.Reader, limit int) (flat []float32, dim int, err error) {
	dim, err = readVecs(r, limit, 1, func(b []byte) error {
		for _, c := range b {
			flat = append(flat, float32(c))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return flat, dim, nil
}

// ReadIvecs reads up to limit vectors (0: all) of an .ivecs stream, one
// row per vector.
func ReadIvecs(r io.Reader, limit int) ([][]int32, error) {
	var rows [][]int32
	_, err := readVecs(r, limit, 4, func(b []byte) error {
		row := make([]int32, len(b)/4)
		for i := range row {
			row[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// readVecs reads the vectors of size-byte components of a vector file and
// hands each one's components to put; it returns their dimension.
func readVecs(r io.Reader, limit, size int, put func(b []byte) error) (int, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var (
		dim int
		hdr [4]byte
		buf []byte
	)
	for n := 0; limit <= 0 || n < limit; n++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, fmt.Errorf("vector %d: truncated dimension", n)
		}
		d := int(int32(binary.LittleEndian.Uint32(hdr[:])))
		switch {
		case d < 1 || d > MaxDim:
			return 0, fmt.Errorf("vector %d: dimension %d out of range 1–%d (not a vector file?)", n, d, MaxDim)
		case dim == 0:
			dim, buf = d, make([]byte, d*size)
		case d != dim:
			return 0, fmt.Errorf("vector %d: dimension %d, the file's first vector has %d", n, d, dim)
		}
		if _, err := io.ReadFull(br, buf); err != nil {
			return 0, fmt.Errorf("vector %d: truncated after its dimension (%d components of %d bytes expected)", n, dim, size)
		}
		if err := put(buf); err != nil {
			return 0, fmt.Errorf("vector %d: %w", n, err)
		}
	}
	if dim == 0 {
		return 0, errors.New("no vectors")
	}
	return dim, nil
}

// WriteIvecs writes rows as .ivecs; every row must have the same length.
func WriteIvecs(w io.Writer, rows [][]int32) error {
	bw := bufio.NewWriter(w)
	b := make([]byte, 4)
	for _, row := range rows {
		binary.LittleEndian.PutUint32(b, uint32(len(row)))
		bw.Write(b)
		for _, v := range row {
			binary.LittleEndian.PutUint32(b, uint32(v))
			bw.Write(b)
		}
	}
	return bw.Flush()
}

// readFile opens path and reads it with read.
func readFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
