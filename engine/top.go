package engine

// topOperator keeps the first n rows by its keys in a bounded heap: n rows and one scratch row
// are all it holds, however long its input. The heap's root is the kept row that comes last; a
// new row replaces it when it comes before it, and ties go to the row that came first, so top
// keeps the same rows as a stable sort and a take.
type topOperator struct {
	keyed
	n       int64
	full    bool    // the heap holds n rows
	heap    []int32 // the kept rows' slots in the buffer, the last in order at the root
	scratch int32   // the slot a candidate row is copied into
	seq     []int64 // by slot: the row's place in the input, to break ties
	seen    int64
	cmp     func(a, b int32) int
	setters []slotSetter // by buffer column; nil for one pruned
	isKey   []bool       // by buffer column
	extra   int64        // reserved for heap, seq, rank and u
	// With a single key that normalizes (a number, date, time or bool), rows compare by
	// (rank, u), and a batch's keys are normalized at once, so that most rows, which do not
	// enter the heap, cost a comparison of two integers.
	fast         bool
	rank, brank  []uint8
	u, bu        []uint64
	pendingBytes int64 // payload changes not yet settled with the budget
}

func (o *topOperator) Next() (*Batch, error) {
	if !o.sorted {
		if err := o.consume(); err != nil {
			return nil, err
		}
		o.sorted = true
		if err := o.finish(); err != nil {
			return nil, err
		}
	}
	return o.emit()
}

func (o *topOperator) consume() error {
	if o.n == 0 {
		return nil // nothing to keep: the input need not even run
	}
	for {
		b, err := o.in.Next()
		if b == nil || err != nil {
			return err
		}
		cols := o.columns(b)
		r := 0
		if !o.full {
			r = int(min(int64(b.Len), o.n-int64(o.buf.len())))
			if err := o.buf.append(cols, 0, r); err != nil {
				return err
			}
			o.seen += int64(r)
			if r == b.Len {
				continue
			}
			if err := o.startHeap(cols, r); err != nil {
				return err
			}
		}
		o.offer(cols, r, b.Len)
		if o.pendingBytes != 0 {
			o.buf.payload += o.pendingBytes
			o.pendingBytes = 0
			if err := o.buf.settle(); err != nil {
				return err
			}
		}
	}
}

// startHeap turns the n rows buffered into a heap, adding row r of cols as the scratch slot.
func (o *topOperator) startHeap(cols []Column, r int) error {
	if err := o.buf.append(cols, r, r+1); err != nil {
		return err
	}
	n := int(o.n)
	o.extra = int64(n+1) * (4 + 8 + 1 + 8)
	if err := o.buf.budget.reserve(o.extra); err != nil {
		o.extra = 0
		return err
	}
	o.full = true
	o.scratch = int32(n)
	o.seq = make([]int64, n+1)
	for i := range n {
		o.seq[i] = int64(i)
	}
	o.isKey = make([]bool, len(o.buf.cols))
	for _, s := range o.slot {
		o.isKey[s] = true
		withNulls(o.buf.column(s))
	}
	o.setters = make([]slotSetter, len(o.buf.cols))
	for i := range o.buf.cols {
		if c := o.buf.column(i); c != nil {
			o.setters[i] = c.(slotSetter)
		}
	}
	key := o.keys[0]
	if o.fast = len(o.keys) == 1 && normalizable(key.e.typ); o.fast {
		o.rank, o.u = make([]uint8, n+1), make([]uint64, n+1)
		normalize(o.buf.column(o.slot[0]), key.desc, key.nullsFirst, o.rank, o.u)
		o.brank, o.bu = make([]uint8, batchSize), make([]uint64, batchSize)
		rank, u, seq := o.rank, o.u, o.seq
		o.cmp = func(a, b int32) int {
			switch {
			case rank[a] != rank[b]:
				return int(rank[a]) - int(rank[b])
			case u[a] < u[b]:
				return -1
			case u[a] > u[b]:
				return 1
			}
			return compareSeq(seq[a], seq[b])
		}
	} else {
		cmps := make([]func(a, b int32) int, len(o.keys))
		for i, k := range o.keys {
			cmps[i] = comparator(o.buf.column(o.slot[i]), k.desc, k.nullsFirst)
		}
		seq := o.seq
		o.cmp = func(a, b int32) int {
			for _, c := range cmps {
				if r := c(a, b); r != 0 {
					return r
				}
			}
			return compareSeq(seq[a], seq[b])
		}
	}
	o.heap = make([]int32, n)
	for i := range o.heap {
		o.heap[i] = int32(i)
	}
	for i := n/2 - 1; i >= 0; i-- {
		o.siftDown(i)
	}
	return nil
}

func compareSeq(a, b int64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// offer considers rows [lo, hi) of cols for the heap.
func (o *topOperator) offer(cols []Column, lo, hi int) {
	if o.fast {
		key := o.keys[0]
		normalize(cols[o.slot[0]], key.desc, key.nullsFirst, o.brank, o.bu)
		root := o.heap[0]
		for r := lo; r < hi; r++ {
			rr, ru := o.brank[r], o.bu[r]
			if rr > o.rank[root] || rr == o.rank[root] && ru >= o.u[root] {
				continue // not before the last row kept; a tie goes to the row kept, which came first
			}
			o.rank[o.scratch], o.u[o.scratch] = rr, ru
			o.enter(cols, r, o.seen+int64(r-lo), false)
			root = o.heap[0]
		}
		o.seen += int64(hi - lo)
		return
	}
	for r := lo; r < hi; r++ {
		for _, s := range o.slot {
			o.pendingBytes += o.setters[s].setFrom(int(o.scratch), cols[s], r)
		}
		o.seq[o.scratch] = o.seen + int64(r-lo)
		if o.cmp(o.scratch, o.heap[0]) < 0 {
			o.enter(cols, r, 0, true)
		}
	}
	o.seen += int64(hi - lo)
}

// enter copies row r into the scratch slot and makes it the heap's root in place of the last
// row kept, whose slot becomes the scratch.
func (o *topOperator) enter(cols []Column, r int, seq int64, keysCopied bool) {
	for i, s := range o.setters {
		if s != nil && !(keysCopied && o.isKey[i]) {
			o.pendingBytes += s.setFrom(int(o.scratch), cols[i], r)
		}
	}
	if !keysCopied {
		o.seq[o.scratch] = seq
	}
	o.heap[0], o.scratch = o.scratch, o.heap[0]
	o.siftDown(0)
}

// siftDown restores the heap below i: each row comes after its children.
func (o *topOperator) siftDown(i int) {
	h := o.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && o.cmp(h[r], h[l]) > 0 {
			c = r
		}
		if o.cmp(h[c], h[i]) <= 0 {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// finish puts the rows kept in order in perm.
func (o *topOperator) finish() error {
	if !o.full {
		return o.order(o.buf.len())
	}
	if err := o.buf.budget.reserve(int64(len(o.heap)) * 4); err != nil {
		return err
	}
	o.perm = make([]int32, len(o.heap))
	copy(o.perm, o.heap)
	return sortCancelable(o.perm, o.check, o.cmp)
}

func (o *topOperator) Close() {
	o.close()
	o.buf.budget.release(o.extra)
	o.extra = 0
}
