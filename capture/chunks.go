package capture

import (
	"errors"
	"io"
)

// chunkSize is the buffer a file is read into: several packets of the
// largest size, so that a refill is rare and a read syscall large.
const chunkSize = 4 * readBufSize

// chunkReader is the read buffer of a capture file: a bufio.Reader's Peek
// and Discard, with one difference that matters to a sharded pipeline.
// When retaining, a refill does not move unread bytes within the buffer:
// it continues in a fresh chunk, so that packets handed out earlier stay
// where they are until the caller releases them (Source.Retain). Payloads
// then travel to other goroutines without a copy. Without retaining it
// reuses its one buffer, as bufio does.
type chunkReader struct {
	src  io.Reader
	buf  []byte // the current chunk; buf[r:w] is unread
	r, w int
	err  error // the source's error, reported once the buffer is drained

	retain bool
	seq    uint64    // number of the current chunk
	held   []heldBuf // chunks left behind, oldest first, not yet released
	free   [][]byte  // released chunks, reused before allocating
}

type heldBuf struct {
	seq uint64
	buf []byte
}

// newChunkReader reads src in chunks of size bytes (0: chunkSize).
func newChunkReader(src io.Reader, size int) *chunkReader {
	if size <= 0 {
		size = chunkSize
	}
	return &chunkReader{src: src, buf: make([]byte, size)}
}

// Peek returns the next n bytes without consuming them; fewer, with the
// source's error (io.EOF at its end), when the input ends first. n must
// not exceed readBufSize.
func (c *chunkReader) Peek(n int) ([]byte, error) {
	if n > readBufSize {
		return c.buf[c.r:c.w], errBufferFull
	}
	for c.w-c.r < n && c.err == nil {
		if len(c.buf)-c.r < n {
			c.makeRoom(n)
		}
		c.fill()
	}
	if c.w-c.r < n {
		err := c.err
		if err == nil {
			err = io.ErrNoProgress
		}
		return c.buf[c.r:c.w], err
	}
	return c.buf[c.r : c.r+n], nil
}

// Discard consumes n bytes, reading (and dropping) past the buffer if
// needed.
func (c *chunkReader) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if c.r == c.w {
			if c.err != nil {
				return done, c.err
			}
			if c.w == len(c.buf) {
				c.makeRoom(0)
			}
			c.fill()
			continue
		}
		k := min(n-done, c.w-c.r)
		c.r += k
		done += k
	}
	return done, nil
}

// Read lets a gzip reader draw on the buffer.
func (c *chunkReader) Read(p []byte) (int, error) {
	if c.r == c.w {
		if c.err != nil {
			return 0, c.err
		}
		if c.w == len(c.buf) {
			c.r, c.w = 0, 0
		}
		c.fill()
		if c.r == c.w {
			return 0, c.err
		}
	}
	n := copy(p, c.buf[c.r:c.w])
	c.r += n
	return n, nil
}

// ReadByte saves gzip from wrapping the reader in a bufio of its own.
func (c *chunkReader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// fill reads into the free end of the buffer. A reader may return no
// bytes and no error now and then; as bufio does, only many such reads in
// a row are an error.
func (c *chunkReader) fill() {
	for range 100 {
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		if err != nil {
			c.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	c.err = io.ErrNoProgress
}

// makeRoom frees the end of the buffer for a refill, with room for n
// bytes at least: it slides the unread bytes to the front, or, when
// retaining, carries them into a new chunk and keeps the old one for the
// caller. A buffer smaller than n (only tests make one) grows.
func (c *chunkReader) makeRoom(n int) {
	if !c.retain && len(c.buf) >= n {
		copy(c.buf, c.buf[c.r:c.w])
		c.w -= c.r
		c.r = 0
		return
	}
	var next []byte
	if k := len(c.free); k > 0 && len(c.free[k-1]) >= n {
		next, c.free = c.free[k-1], c.free[:k-1]
	} else {
		next = make([]byte, max(len(c.buf), n))
	}
	if !c.retain {
		c.w = copy(next, c.buf[c.r:c.w])
		c.r = 0
		c.buf = next
		return
	}
	c.w = copy(next, c.buf[c.r:c.w])
	c.r = 0
	c.held = append(c.held, heldBuf{seq: c.seq, buf: c.buf})
	c.buf = next
	c.seq++
}

// mark returns the number of the current chunk.
func (c *chunkReader) mark() uint64 { return c.seq }

// release returns the chunks before chunk m for reuse.
func (c *chunkReader) release(m uint64) {
	i := 0
	for ; i < len(c.held) && c.held[i].seq < m; i++ {
		c.free = append(c.free, c.held[i].buf)
		c.held[i] = heldBuf{}
	}
	c.held = c.held[:copy(c.held, c.held[i:])]
}

var errBufferFull = errors.New("peek larger than the read buffer")
