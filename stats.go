package registry

// PartitionStat describes one shard. Counts are read from the shard's
// maps; the write and latency fields come from the admission meter and
// are zero when admission is off ([WithoutAdmission]).
type PartitionStat struct {
	// Index is the shard's index, from 0 to Shards()-1.
	Index int
	// Servers and Transports count the live entries in the shard.
	Servers, Transports int
	// Writes counts registrations and unregistrations in the current
	// admission window; Samples counts those whose latency was timed
	// (one in admission.Config.SampleEvery).
	Writes, Samples uint64
	// AvgNs, MinNs and MaxNs summarise the timed write latencies of the
	// current window, in nanoseconds; EWMANs is their exponentially
	// weighted moving average across windows.
	AvgNs, MinNs, MaxNs, EWMANs int64
	// Alarmed reports that the shard counts as contended: its EWMA is
	// above the threshold and it saw enough writes in the window.
	Alarmed bool
}

// ContentionStatus explains the admission gate.
type ContentionStatus struct {
	// AdmissionActive reports that registrations are being refused with
	// [ErrAdmissionControlActive].
	AdmissionActive bool
	// AlarmedShards lists the indexes of the alarmed shards.
	AlarmedShards []int
	// AlarmedFraction is len(AlarmedShards) divided by the shard count.
	AlarmedFraction float64
}

// PartitionStats returns the stats of every shard. It reads atomics only
// and never stops a writer; under concurrent writes the fields are each
// current but not one consistent snapshot.
func (r *Registry[M, S, T]) PartitionStats() []PartitionStat {
	out := make([]PartitionStat, len(r.shards))
	for i := range out {
		out[i] = r.partitionStat(i)
	}
	return out
}

// PartitionStat returns the stats of shard i, or an [*OptionError]
// (matching [ErrInvalidOption]) for an index out of range.
func (r *Registry[M, S, T]) PartitionStat(i int) (PartitionStat, error) {
	if i < 0 || i >= len(r.shards) {
		return PartitionStat{}, &OptionError{"shard index", i, "out of range"}
	}
	return r.partitionStat(i), nil
}

func (r *Registry[M, S, T]) partitionStat(i int) PartitionStat {
	a := r.adm.Stat(i)
	return PartitionStat{
		Index:      i,
		Servers:    r.shards[i].Servers.Len(),
		Transports: r.shards[i].Transports.Len(),
		Writes:     a.Writes,
		Samples:    a.Samples,
		AvgNs:      a.AvgNs,
		MinNs:      a.MinNs,
		MaxNs:      a.MaxNs,
		EWMANs:     a.EWMANs,
		Alarmed:    a.Alarmed,
	}
}

// ContentionStatus reports whether the admission gate is engaged and
// which shards are alarmed, evaluated at the time of the call (so it
// shows a gate that has lifted since the last write). With admission off
// it reports nothing alarmed.
func (r *Registry[M, S, T]) ContentionStatus() ContentionStatus {
	st := r.adm.Status()
	return ContentionStatus{
		AdmissionActive: st.Active,
		AlarmedShards:   st.Alarmed,
		AlarmedFraction: st.Fraction,
	}
}

// ResetStats zeroes every shard's write counters, latencies and EWMA and
// lifts the gate. Entry counts are not stats and stay.
func (r *Registry[M, S, T]) ResetStats() {
	r.adm.Reset()
}
