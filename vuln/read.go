package vuln

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// Limits bound what the readers accept, so that a hostile or broken feed cannot exhaust memory
// or disk. Zero fields take the defaults of [DefaultLimits].
type Limits struct {
	// RecordBytes caps one OSV record (a file, a zip entry or a JSON line), as decompressed.
	RecordBytes int64
	// TotalBytes caps everything decompressed from one input (a zip, a directory, a .gz file):
	// the zip-bomb guard. It is checked against the bytes actually read, not the sizes a zip
	// header claims.
	TotalBytes int64
	// FeedBytes caps a KEV JSON or EPSS CSV file, as decompressed.
	FeedBytes int64
	// Entries caps the number of files in one zip or directory.
	Entries int
}

// DefaultLimits fit the largest public feeds with room to spare (osv.dev's npm all.zip, the
// largest, holds about 1 GiB of JSON in about 200,000 records; EPSS is about 12 MiB).
var DefaultLimits = Limits{
	RecordBytes: 16 << 20,
	TotalBytes:  8 << 30,
	FeedBytes:   1 << 30,
	Entries:     2_000_000,
}

func (l Limits) withDefaults() Limits {
	if l.RecordBytes <= 0 {
		l.RecordBytes = DefaultLimits.RecordBytes
	}
	if l.TotalBytes <= 0 {
		l.TotalBytes = DefaultLimits.TotalBytes
	}
	if l.FeedBytes <= 0 {
		l.FeedBytes = DefaultLimits.FeedBytes
	}
	if l.Entries <= 0 {
		l.Entries = DefaultLimits.Entries
	}
	return l
}

// Kind is what a feed file holds.
type Kind string

// Feed kinds.
const (
	KindOSV  Kind = "osv"
	KindKEV  Kind = "kev"
	KindEPSS Kind = "epss"
)

// Source is an input whose kind has been detected.
type Source struct {
	Path   string
	Kind   Kind
	Layout string // osv: "zip", "dir", "jsonl", "json", "yaml"; kev: "json"; epss: "csv"
	Gzip   bool   // the file is gzip-compressed
}

func (s Source) String() string {
	l := s.Layout
	if s.Gzip {
		l += ".gz"
	}
	return fmt.Sprintf("%s (%s, %s)", s.Path, s.Kind, l)
}

var (
	zipMagic  = []byte("PK\x03\x04")
	gzipMagic = []byte{0x1f, 0x8b}
)

// Detect finds out what path holds: an OSV zip (as osv.dev publishes per ecosystem, or any zip
// of OSV JSON/YAML files), a directory of OSV files (searched recursively), OSV JSON lines, a
// single OSV record (JSON or YAML), the CISA KEV JSON catalog, or a FIRST EPSS CSV. Files may be
// gzip-compressed.
func Detect(path string) (Source, error) {
	src := Source{Path: path}
	fi, err := os.Stat(path)
	if err != nil {
		return src, badf("%s: %v", path, unwrapPathErr(err))
	}
	if fi.IsDir() {
		src.Kind, src.Layout = KindOSV, "dir"
		return src, nil
	}
	if !fi.Mode().IsRegular() {
		return src, badf("%s: not a regular file or directory", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return src, badf("%s: %v", path, unwrapPathErr(err))
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return src, badf("%s: %v", path, err)
	}
	head = head[:n]
	if bytes.HasPrefix(head, zipMagic) {
		src.Kind, src.Layout = KindOSV, "zip"
		return src, nil
	}
	if bytes.HasPrefix(head, gzipMagic) {
		src.Gzip = true
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return src, err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return src, badf("%s: gzip: %v", path, err)
		}
		head = make([]byte, 64<<10)
		n, err := io.ReadFull(zr, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return src, badf("%s: gzip: %v", path, err)
		}
		head = head[:n]
	}
	name := strings.ToLower(strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".gz"))
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(text, []byte("#model_version")) || bytes.HasPrefix(text, []byte("cve,epss")):
		src.Kind, src.Layout = KindEPSS, "csv"
	case bytes.HasPrefix(text, []byte("{")) && (bytes.Contains(head, []byte(`"catalogVersion"`)) || bytes.Contains(head, []byte(`"cveID"`))):
		src.Kind, src.Layout = KindKEV, "json"
	case strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson"):
		src.Kind, src.Layout = KindOSV, "jsonl"
	case bytes.HasPrefix(text, []byte("{")):
		src.Kind, src.Layout = KindOSV, "json"
		// One object per line, more than one line: JSON lines.
		if line, rest, ok := bytes.Cut(text, []byte("\n")); ok && json.Valid(line) && len(bytes.TrimSpace(rest)) > 0 {
			src.Layout = "jsonl"
		}
	case strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"):
		src.Kind, src.Layout = KindOSV, "yaml"
	default:
		return src, badf("%s: not a recognised feed: expected an OSV zip, directory, JSON, JSON lines or YAML record, the CISA KEV JSON catalog or a FIRST EPSS CSV", path)
	}
	return src, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadOptions tune [ReadOSV].
type ReadOptions struct {
	Limits Limits
	// OnInvalid, if set, is called with each bad record's error instead of stopping; the reader
	// goes on with the next record. Errors that are not about one record (an oversized or corrupt
	// zip) still stop the read.
	OnInvalid func(err error)
	// Prepare, if set, is called for every record on the reader's goroutines, concurrently and
	// before fn, for per-record work that parallelises (the store compresses records there).
	Prepare func(*Advisory) error
}

// ReadOSV reads every OSV record of src and calls fn for each, in the order of the input. It
// stops at the first bad record (unless opts.OnInvalid is set), at the first error of fn, and
// when ctx is done.
func ReadOSV(ctx context.Context, src Source, opts ReadOptions, fn func(*Advisory) error) error {
	lim := opts.Limits.withDefaults()
	r := &osvReader{ctx: ctx, lim: lim, fn: fn, onBad: opts.OnInvalid, prepare: opts.Prepare}
	switch src.Layout {
	case "zip":
		return r.zip(src.Path)
	case "dir":
		return r.dir(src.Path)
	}
	rc, err := openFeed(src.Path, lim.TotalBytes)
	if err != nil {
		return err
	}
	defer rc.Close()
	switch src.Layout {
	case "jsonl":
		return r.jsonl(src.Path, rc)
	case "json", "yaml":
		data, err := readCapped(rc, lim.RecordBytes, src.Path)
		if err != nil {
			return err
		}
		return r.record(src.Path, src.Layout, data)
	}
	return badf("%s: not an OSV source", src.Path)
}

type osvReader struct {
	ctx     context.Context
	lim     Limits
	fn      func(*Advisory) error
	onBad   func(error)
	prepare func(*Advisory) error
	total   int64
}

// record parses one record and hands it on.
func (r *osvReader) record(file, layout string, data []byte) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	a, err := r.parse(file, layout, data, nil)
	if err != nil {
		return r.bad(err)
	}
	return r.fn(a)
}

// parse parses one JSON or YAML record (safe for concurrent use).
// deflated, if not nil, is data compressed and becomes the record's RawDeflate.
func (r *osvReader) parse(file, layout string, data, deflated []byte) (*Advisory, error) {
	if layout == "yaml" {
		j, err := yamlToJSON(file, data)
		if err != nil {
			return nil, badInput{fmt.Errorf("not an OSV YAML record: %w", err)}
		}
		data = j
	}
	a, err := ParseOSV(data, file)
	if err != nil {
		return nil, err
	}
	a.RawDeflate = deflated
	if r.prepare != nil {
		if err := r.prepare(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (r *osvReader) bad(err error) error {
	if r.onBad != nil {
		r.onBad(err)
		return nil
	}
	return err
}

// layoutOf says how a file inside a zip or directory is read; "" skips it.
func layoutOf(name string) string {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.HasPrefix(base, "."):
		return ""
	case strings.HasSuffix(base, ".json"):
		return "json"
	case strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"):
		return "yaml"
	}
	return ""
}

func (r *osvReader) zip(path string) error {
	zr, closeZip, err := openZip(path)
	if err != nil {
		return badf("%s: not a readable zip: %v", path, err)
	}
	defer closeZip()
	if len(zr.File) > r.lim.Entries {
		return badf("%s: %d files in the zip, more than the limit of %d", path, len(zr.File), r.lim.Entries)
	}
	// Check the declared sizes first, so that an obvious bomb is refused before any work.
	var declared uint64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || layoutOf(f.Name) == "" {
			continue
		}
		if f.UncompressedSize64 > uint64(r.lim.RecordBytes) {
			return badf("%s!%s: %d bytes uncompressed, more than the per-record limit of %d", path, f.Name, f.UncompressedSize64, r.lim.RecordBytes)
		}
		declared += f.UncompressedSize64
		if declared > uint64(r.lim.TotalBytes) {
			return badf("%s: more than %d bytes uncompressed, the limit for one input", path, r.lim.TotalBytes)
		}
	}
	var tasks []task
	for _, f := range zr.File {
		layout := layoutOf(f.Name)
		if f.FileInfo().IsDir() || layout == "" || strings.HasPrefix(f.Name, "__MACOSX/") {
			continue
		}
		tasks = append(tasks, task{name: path + "!" + f.Name, layout: layout, read: func() ([]byte, []byte, error) {
			return r.zipEntry(f)
		}})
	}
	return r.run(path, tasks)
}

// zipInMemory is the largest zip read into memory whole: its records are then read without two
// system calls each. Larger zips are read from the file.
const zipInMemory = 256 << 20

func openZip(path string) (*zip.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, unwrapPathErr(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if fi.Size() <= zipInMemory {
		data := make([]byte, fi.Size())
		_, err := io.ReadFull(f, data)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		return zr, func() error { return nil }, err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return zr, f.Close, nil
}

// zipEntry reads one file of a zip. A DEFLATE-compressed entry is read compressed and inflated
// here, and its compressed bytes are returned too: they are what the store keeps of the record,
// so an import does not compress again what the zip already holds compressed.
//
// Buffers have room for the declared size and one more read: bytes.Buffer.ReadFrom doubles a
// buffer with less than MinRead bytes free, even when only EOF is left to read.
func (r *osvReader) zipEntry(f *zip.File) (data, deflated []byte, err error) {
	if f.Method != zip.Deflate {
		rc, err := f.Open()
		if err != nil {
			return nil, nil, err
		}
		defer rc.Close()
		buf := bytes.NewBuffer(make([]byte, 0, min(f.UncompressedSize64, uint64(r.lim.RecordBytes))+bytes.MinRead))
		// Read at most one byte more than allowed: sizes in zip headers can lie.
		_, err = buf.ReadFrom(io.LimitReader(rc, r.lim.RecordBytes+1))
		return buf.Bytes(), nil, err
	}
	if f.CompressedSize64 > uint64(r.lim.RecordBytes) {
		return nil, nil, fmt.Errorf("%d bytes compressed, more than the per-record limit of %d", f.CompressedSize64, r.lim.RecordBytes)
	}
	rr, err := f.OpenRaw()
	if err != nil {
		return nil, nil, err
	}
	deflated = make([]byte, f.CompressedSize64)
	if _, err := io.ReadFull(rr, deflated); err != nil {
		return nil, nil, err
	}
	fr := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(fr)
	if err := fr.(flate.Resetter).Reset(bytes.NewReader(deflated), nil); err != nil {
		return nil, nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(f.UncompressedSize64, uint64(r.lim.RecordBytes))+bytes.MinRead))
	// Read at most one byte more than allowed: sizes in zip headers can lie.
	if _, err := buf.ReadFrom(io.LimitReader(fr, r.lim.RecordBytes+1)); err != nil {
		return nil, nil, err
	}
	data = buf.Bytes()
	if int64(len(data)) > r.lim.RecordBytes {
		return data, nil, nil // refused by the caller with the per-record limit
	}
	if uint64(len(data)) != f.UncompressedSize64 {
		return nil, nil, fmt.Errorf("%d bytes uncompressed, but the zip says %d", len(data), f.UncompressedSize64)
	}
	if crc32.ChecksumIEEE(data) != f.CRC32 {
		return nil, nil, zip.ErrChecksum
	}
	return data, deflated, nil
}

var flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

func (r *osvReader) dir(root string) error {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and friends
			}
			return nil
		}
		if d.Type().IsRegular() && layoutOf(p) != "" {
			files = append(files, p)
			if len(files) > r.lim.Entries {
				return badf("%s: more than %d files, the limit for one input", root, r.lim.Entries)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrBadInput) {
			return err
		}
		return badf("%s: %v", root, err)
	}
	slices.Sort(files)
	tasks := make([]task, len(files))
	for i, p := range files {
		tasks[i] = task{name: p, layout: layoutOf(p), read: func() ([]byte, []byte, error) {
			f, err := os.Open(p)
			if err != nil {
				return nil, nil, unwrapPathErr(err)
			}
			defer f.Close()
			data, err := io.ReadAll(io.LimitReader(f, r.lim.RecordBytes+1))
			return data, nil, err
		}}
	}
	return r.run(root, tasks)
}

// task is one file of a zip or directory.
type task struct {
	name, layout string
	// read returns the file's bytes and, when it has them at no cost, the same bytes
	// compressed as by [Advisory.Deflate].
	read func() (data, deflated []byte, err error)
}

type result struct {
	a   *Advisory
	n   int64
	err error // a read error or limit: stops the read
	bad error // a bad record
}

// run reads and parses tasks on several goroutines and hands the records to fn in task order.
// Parsing JSON dominates an import, so this roughly multiplies its speed by the cores free.
func (r *osvReader) run(input string, tasks []task) error {
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	const inFlight = 32 // bounds memory: at most this many records read ahead
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	jobs := make(chan func(), inFlight)
	queue := make(chan chan result, inFlight)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				j()
			}
		})
	}
	go func() {
		defer close(queue)
		defer close(jobs)
		for _, t := range tasks {
			ch := make(chan result, 1)
			job := func() { ch <- r.parseTask(t) }
			select {
			case queue <- ch:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job:
			case <-ctx.Done():
				ch <- result{err: ctx.Err()}
				return
			}
		}
	}()
	defer wg.Wait()
	for ch := range queue {
		res := <-ch
		if res.err != nil {
			cancel()
			return res.err
		}
		if r.total += res.n; r.total > r.lim.TotalBytes {
			cancel()
			return badf("%s: more than %d bytes uncompressed, the limit for one input", input, r.lim.TotalBytes)
		}
		if res.bad != nil {
			if err := r.bad(res.bad); err != nil {
				cancel()
				return err
			}
			continue
		}
		if err := r.ctx.Err(); err != nil {
			cancel()
			return err
		}
		if err := r.fn(res.a); err != nil {
			cancel()
			return err
		}
	}
	return r.ctx.Err()
}

func (r *osvReader) parseTask(t task) result {
	data, deflated, err := t.read()
	if err != nil {
		return result{err: badf("%s: %v", t.name, err)}
	}
	n := int64(len(data))
	if n > r.lim.RecordBytes {
		return result{err: badf("%s: more than %d bytes uncompressed, the per-record limit", t.name, r.lim.RecordBytes)}
	}
	var raw []byte
	if t.layout == "json" {
		raw = deflated // a YAML record is stored as the JSON it converts to
	}
	a, err := r.parse(t.name, t.layout, data, raw)
	if err != nil {
		return result{n: n, bad: err}
	}
	return result{a: a, n: n}
}

func (r *osvReader) jsonl(path string, rd io.Reader) error {
	br := bufio.NewReaderSize(rd, 1<<20)
	line := 0
	var buf []byte
	for {
		buf = buf[:0]
		eof := false
		for {
			chunk, err := br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if int64(len(buf)) > r.lim.RecordBytes {
				return badf("%s:%d: line longer than %d bytes, the per-record limit", path, line+1, r.lim.RecordBytes)
			}
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			return badf("%s:%d: %v", path, line+1, err)
		}
		line++
		if t := bytes.TrimSpace(buf); len(t) > 0 {
			if err := r.record(fmt.Sprintf("%s:%d", path, line), "json", t); err != nil {
				return err
			}
		}
		if eof {
			return nil
		}
	}
}

// openFeed opens a file, decompressing gzip, and caps what can be read from it.
func openFeed(path string, capBytes int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badf("%s: %v", path, unwrapPathErr(err))
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	var rd io.Reader = br
	if bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, badf("%s: gzip: %v", path, err)
		}
		rd = zr
	}
	return &cappedReader{r: rd, left: capBytes, path: path, closer: f}, nil
}

// cappedReader fails (rather than truncating) once more than its cap has been read.
type cappedReader struct {
	r      io.Reader
	left   int64
	path   string
	limit  int64
	closer io.Closer
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.limit == 0 {
		c.limit = c.left
	}
	if c.left < 0 {
		return 0, badf("%s: more than %d bytes (decompressed), the limit for this input", c.path, c.limit)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, badf("%s: more than %d bytes (decompressed), the limit for this input", c.path, c.limit)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, badf("%s: %v", c.path, err)
	}
	return n, err
}

func (c *cappedReader) Close() error { return c.closer.Close() }

// readCapped reads all of rd, failing when it holds more than capBytes.
func readCapped(rd io.Reader, capBytes int64, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rd, capBytes+1))
	if err != nil {
		if errors.Is(err, ErrBadInput) {
			return nil, err
		}
		return nil, badf("%s: %v", name, err)
	}
	if int64(len(data)) > capBytes {
		return nil, badf("%s: more than %d bytes, the per-record limit", name, capBytes)
	}
	return data, nil
}

// yamlToJSON converts one YAML document to JSON. Anchors and aliases are refused (alias
// expansion is how YAML "billion laughs" bombs work, and OSV has no use for them).
func yamlToJSON(name string, data []byte) ([]byte, error) {
	doc, err := yamlfile.Parse(name, data)
	if err != nil {
		return nil, err
	}
	var v yaml.MapSlice
	if err := doc.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonable(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// jsonable turns decoded YAML (ordered maps, timestamps, non-string keys) into values that
// encoding/json writes as the equivalent JSON.
func jsonable(v any) any {
	switch x := v.(type) {
	case yaml.MapSlice:
		m := make(orderedJSON, 0, len(x))
		for _, it := range x {
			m = append(m, kv{fmt.Sprint(it.Key), jsonable(it.Value)})
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = jsonable(x[i])
		}
		return x
	case interface{ Format(string) string }: // time.Time
		return x.Format("2006-01-02T15:04:05.999999999Z07:00")
	}
	return v
}

type kv struct {
	k string
	v any
}

// orderedJSON is a JSON object that keeps the YAML's key order.
type orderedJSON []kv

func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e.v); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSpace(vb.Bytes()))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
