package admission

// judge returns the shard's alarm verdict at now, given its previous
// verdict was. A shard is alarmed when it had a sample less than a window
// ago, saw at least MinWrites writes in the last window, and its EWMA
// exceeds Threshold; once alarmed it stays so while the EWMA exceeds
// Threshold/2 and the other two conditions hold. It only loads.
func (c *Controller) judge(s *shardState, now int64, was bool) bool {
	if now-s.lastNs.Load() >= c.window {
		return false
	}
	if s.recentWrites(now, c.window) < c.minWrites {
		return false
	}
	limit := c.threshold
	if was {
		limit = c.clearNs
	}
	return s.ewmaNs.Load() > limit
}

// maybeEvaluate evaluates the gate at now unless an evaluation ran less
// than Window/10 ago. Of several goroutines that find it due, the one
// whose CAS on lastEval succeeds evaluates; the others return at once.
func (c *Controller) maybeEvaluate(now int64) {
	last := c.gate.lastEval.Load()
	if now-last < c.evalEvery {
		return
	}
	if c.gate.lastEval.CompareAndSwap(last, now) {
		c.evaluate(now, nil)
	}
}

// evaluate rotates each shard's window, stores its verdict at now, then
// engages the gate if more than Fraction of shards are alarmed or lifts
// it if at most Release are. It returns the alarmed count and, when list
// is not nil, appends the alarmed indices to *list.
//
// Two evaluations may overlap (a forced one beside a rate-limited one, or
// Status); each stores verdicts true at some instant during its run, the
// last store wins, and the next evaluation repairs any mix. It takes no
// lock and allocates only by appending to list.
func (c *Controller) evaluate(now int64, list *[]int) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.rotate(now, c.window)
		was := s.alarmed.Load()
		is := c.judge(s, now, was)
		if is != was {
			s.alarmed.Store(is)
		}
		if !is {
			continue
		}
		n++
		if list != nil {
			*list = append(*list, i)
		}
	}

	share := float64(n) / float64(len(c.shards))
	if c.gate.active.Load() {
		if share <= c.release {
			c.gate.active.Store(false)
		}
	} else if share > c.fraction {
		c.gate.active.Store(true)
	}
	return n
}

// Status evaluates the gate at the current time, as a rate-limited
// evaluation would but at once, and reports the result. It takes no lock
// and never stops writers; it allocates the Alarmed slice. A nil
// controller returns the zero Status.
func (c *Controller) Status() Status {
	if c == nil {
		return Status{}
	}
	now := c.clock()
	c.gate.lastEval.Store(now)

	var alarmed []int
	n := c.evaluate(now, &alarmed)
	return Status{
		Active:   c.gate.active.Load(),
		Alarmed:  alarmed,
		Fraction: float64(n) / float64(len(c.shards)),
	}
}
