package findingindex

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

const (
	assetA = "53ed0fa2-ccd5-4d2e-92ee-c072635889e3"
	assetB = "0a1b2c3d-0000-4000-8000-000000000001"
	assetC = "not-a-uuid"
)

func recordOf(kind Kind, asset string, value []byte) kafkaio.Record {
	return kafkaio.Record{Key: Key(kind, asset), Value: value}
}

func keys(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

func change(key string, open bool) Change { return Change{Key: []byte(key), Open: open} }

func TestIndexUpdateAndClose(t *testing.T) {
	ctx := context.Background()
	log := &MemoryLog{}
	x := New(log)
	for _, tc := range []struct {
		name       string
		kind       Kind
		changes    []Change
		wantVulnsA []string
		wantLate   int
		wantBad    int
	}{
		{"open findings", KindVulns, []Change{change(assetA+"|100|0|TCP", true), change(assetA+"|200|445|UDP", true), change(assetB+"|100|0|TCP", true)},
			[]string{assetA + "|100|0|TCP", assetA + "|200|445|UDP"}, 0, 0},
		{"fixed removes, reopened adds again", KindVulns, []Change{change(assetA+"|100|0|TCP", false), change(assetA+"|300|80|TCP", true)},
			[]string{assetA + "|200|445|UDP", assetA + "|300|80|TCP"}, 0, 0},
		{"fixed of an unknown finding is nothing", KindVulns, []Change{change(assetA+"|999|0|TCP", false)},
			[]string{assetA + "|200|445|UDP", assetA + "|300|80|TCP"}, 0, 0},
		{"bad keys are skipped", KindVulns, []Change{change(assetA+"|x|0|TCP", true), change(assetA+"|1|70000|TCP", true), change("nobar", true)},
			[]string{assetA + "|200|445|UDP", assetA + "|300|80|TCP"}, 0, 3},
		{"compliance and a non-UUID asset", KindCompliance, []Change{change(assetA+"|c1", true), change(assetC+"|c2", true), change(assetA+"|c0", false)},
			[]string{assetA + "|200|445|UDP", assetA + "|300|80|TCP"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			late, bad, err := x.Update(ctx, tc.kind, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			if len(late) != tc.wantLate || bad != tc.wantBad {
				t.Fatalf("late %v bad %d, want %d and %d", late, bad, tc.wantLate, tc.wantBad)
			}
			if got := keys(x.OpenKeys(assetA, KindVulns)); !slices.Equal(got, tc.wantVulnsA) {
				t.Fatalf("open vulns of A: %v, want %v", got, tc.wantVulnsA)
			}
		})
	}
	if got := keys(x.OpenKeys(assetC, KindCompliance)); !slices.Equal(got, []string{assetC + "|c2"}) {
		t.Fatalf("compliance of C: %v", got)
	}
	if s := x.Stats(); s.Assets != 3 || s.OpenFindings != 5 {
		t.Fatalf("stats %+v, want 3 assets and 5 open findings", s)
	}

	// Closing A forgets its findings and keeps a mark; a late finding of A is
	// handed back, not added.
	if err := x.Close(ctx, []string{assetA}, []Closure{{ReasonDeleted, 1234}}); err != nil {
		t.Fatal(err)
	}
	if c, ok := x.Closed([]byte(assetA)); !ok || c != (Closure{ReasonDeleted, 1234}) {
		t.Fatalf("Closed(A) = %v %v", c, ok)
	}
	if got := x.OpenKeys(assetA, KindVulns); len(got) != 0 {
		t.Fatalf("a closed asset has open findings %v", keys(got))
	}
	late, _, err := x.Update(ctx, KindVulns, []Change{change(assetA+"|500|0|TCP", true), change(assetB+"|500|0|TCP", true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(late) != 1 || string(late[0].Key) != assetA+"|500|0|TCP" || late[0].Closure != (Closure{ReasonDeleted, 1234}) {
		t.Fatalf("late %+v", late)
	}
	if got := x.OpenKeys(assetA, KindVulns); len(got) != 0 {
		t.Fatalf("a late finding reopened the asset: %v", keys(got))
	}

	// A rebuild from the log holds the same.
	y := New(log)
	if err := y.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{assetA, assetB, assetC} {
		for _, k := range []Kind{KindVulns, KindCompliance} {
			if got, want := keys(y.OpenKeys(a, k)), keys(x.OpenKeys(a, k)); !slices.Equal(got, want) {
				t.Errorf("rebuilt %s %s: %v, want %v", a, k, got, want)
			}
		}
	}
	if _, ok := y.Closed([]byte(assetA)); !ok {
		t.Error("the rebuilt index lost the closed mark")
	}
	if x.Stats() != y.Stats() {
		t.Errorf("stats %+v, rebuilt %+v", x.Stats(), y.Stats())
	}

	// Restored: the mark goes, the asset starts afresh.
	n, err := x.Restore(ctx, [][]byte{[]byte(assetA), []byte(assetB)})
	if err != nil || n != 1 {
		t.Fatalf("Restore = %d, %v; want 1 mark cleared", n, err)
	}
	if _, ok := x.Closed([]byte(assetA)); ok {
		t.Fatal("still closed after restore")
	}
	if _, _, err := x.Update(ctx, KindVulns, []Change{change(assetA+"|600|0|TCP", true)}); err != nil {
		t.Fatal(err)
	}
	if got := keys(x.OpenKeys(assetA, KindVulns)); !slices.Equal(got, []string{assetA + "|600|0|TCP"}) {
		t.Fatalf("restored asset: %v, want only the finding seen since", got)
	}
}

// Another process's writes are seen by the next Update: a closure written
// elsewhere makes this process's findings of that asset late.
func TestIndexCatchesUpWithOtherWriters(t *testing.T) {
	ctx := context.Background()
	log := &MemoryLog{}
	vulns, assets := New(log), New(log)
	if _, _, err := vulns.Update(ctx, KindVulns, []Change{change(assetA+"|1|0|TCP", true)}); err != nil {
		t.Fatal(err)
	}
	if err := assets.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := keys(assets.OpenKeys(assetA, KindVulns)); !slices.Equal(got, []string{assetA + "|1|0|TCP"}) {
		t.Fatalf("the other process sees %v", got)
	}
	if err := assets.Close(ctx, []string{assetA}, []Closure{{ReasonTerminated, 9}}); err != nil {
		t.Fatal(err)
	}
	late, _, err := vulns.Update(ctx, KindVulns, []Change{change(assetA+"|2|0|TCP", true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(late) != 1 || late[0].Reason != ReasonTerminated {
		t.Fatalf("late %+v, want the finding handed back as late", late)
	}
}

func TestIndexUndecodableStopsLoad(t *testing.T) {
	ctx := context.Background()
	log := &MemoryLog{}
	good := Encode(Value{Kind: KindCompliance, Checks: []string{"c"}})
	future := append([]byte{Version + 1}, good[1:]...)
	_ = log.Write(ctx, recordOf(KindCompliance, assetA, good), recordOf(KindCompliance, assetB, future))
	err := New(log).Load(ctx)
	if !errors.Is(err, ErrUndecodable) || !strings.Contains(err.Error(), "topic memory partition 0 offset 1") {
		t.Fatalf("Load = %v, want ErrUndecodable naming the topic and offset 1", err)
	}
	_ = log.Write(ctx, kafkaio.Record{Key: []byte("bogus|" + assetA), Value: good})
	if err := New(log).Load(ctx); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("Load = %v, want ErrUndecodable for a key of no kind", err)
	}
}

func TestIndexWriteFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	log := &MemoryLog{}
	x := New(log)
	log.Fail = errors.New("broker down")
	if _, _, err := x.Update(ctx, KindVulns, []Change{change(assetA+"|1|0|TCP", true)}); err == nil {
		t.Fatal("Update succeeded without the write")
	}
	if got := x.OpenKeys(assetA, KindVulns); len(got) != 0 {
		t.Fatalf("an unacknowledged write changed the index: %v", keys(got))
	}
}

// hookLog runs before once, before its first Write.
type hookLog struct {
	*MemoryLog
	before func()
}

func (h *hookLog) Write(ctx context.Context, recs ...kafkaio.Record) error {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	return h.MemoryLog.Write(ctx, recs...)
}

// TestIndexRacesBetweenProcesses: a vulns process and an asset process share
// the topic. Whatever the order of their writes, every open finding of a
// closed asset is handed to one of them to close.
func TestIndexRacesBetweenProcesses(t *testing.T) {
	ctx := context.Background()
	closure := []Closure{{ReasonDeleted, 77}}
	const k1, k2 = assetA + "|1|0|TCP", assetA + "|2|0|TCP"
	closedBy := func(late []Late) []string {
		var out []string
		for _, l := range late {
			if l.Open {
				out = append(out, string(l.Key))
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	publishTo := func(dst *[]Late) func(context.Context, []Late) error {
		return func(_ context.Context, l []Late) error { *dst = append(*dst, l...); return nil }
	}

	t.Run("the vulns write lands after the closure", func(t *testing.T) {
		mem := &MemoryLog{}
		hook := &hookLog{MemoryLog: mem}
		vulns, assets := New(hook), New(mem)
		if _, _, err := vulns.Update(ctx, KindVulns, []Change{change(k1, true)}); err != nil {
			t.Fatal(err)
		}
		var byAssets []Late
		// The asset process closes A between the vulns process's catch-up and its write.
		hook.before = func() {
			if _, err := assets.CloseAssets(ctx, []string{assetA}, closure, publishTo(&byAssets)); err != nil {
				t.Fatal(err)
			}
		}
		late, _, err := vulns.Update(ctx, KindVulns, []Change{change(k2, true)})
		if err != nil {
			t.Fatal(err)
		}
		if got := closedBy(byAssets); !slices.Equal(got, []string{k1}) {
			t.Fatalf("the asset process closed %v, want %v", got, []string{k1})
		}
		if got := closedBy(late); !slices.Contains(got, k2) {
			t.Fatalf("the vulns process closes %v; %s is left open", got, k2)
		}
		if err := vulns.Settle(ctx, late); err != nil {
			t.Fatal(err)
		}
		// Settled: a new process finds nothing more to close.
		fresh := New(mem)
		orphans, err := fresh.Orphans(ctx)
		if err != nil || len(orphans) != 0 {
			t.Fatalf("after settling, a rebuild finds orphans %v (%v)", orphans, err)
		}
	})

	t.Run("the vulns write lands between the closer's catch-up and its mark", func(t *testing.T) {
		mem := &MemoryLog{}
		vulns, assets := New(mem), New(mem)
		if _, _, err := vulns.Update(ctx, KindVulns, []Change{change(k1, true)}); err != nil {
			t.Fatal(err)
		}
		var byAssets, byVulns []Late
		first := true
		_, err := assets.CloseAssets(ctx, []string{assetA}, closure, func(ctx context.Context, l []Late) error {
			if first { // while the closures are in flight, the vulns process writes
				first = false
				late, _, err := vulns.Update(ctx, KindVulns, []Change{change(k2, true)})
				if err != nil {
					return err
				}
				byVulns = append(byVulns, late...)
			}
			byAssets = append(byAssets, l...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		all := closedBy(append(byAssets, byVulns...))
		if !slices.Equal(all, []string{k1, k2}) {
			t.Fatalf("closed %v, want %v", all, []string{k1, k2})
		}
	})
}

// TestCloseAssetsMarksOnlyAfterPublish: when the closures are not
// acknowledged (publish fails: Kafka down, or the process dies there), the
// asset is not marked closed and keeps its open findings, so running the
// chunk again hands them over again; once acknowledged, it is closed for good.
func TestCloseAssetsMarksOnlyAfterPublish(t *testing.T) {
	ctx := context.Background()
	log := &MemoryLog{}
	x := New(log)
	if _, _, err := x.Update(ctx, KindVulns, []Change{change(assetA+"|1|0|TCP", true), change(assetA+"|2|0|TCP", true)}); err != nil {
		t.Fatal(err)
	}
	closure := []Closure{{ReasonDeleted, 5}}
	_, err := x.CloseAssets(ctx, []string{assetA}, closure, func(context.Context, []Late) error { return errors.New("not acknowledged") })
	if err == nil {
		t.Fatal("CloseAssets succeeded although publish failed")
	}
	for _, idx := range []*Index{x, New(log)} { // this process, and one rebuilt from the topic
		if err := idx.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if _, closed := idx.Closed([]byte(assetA)); closed {
			t.Fatal("the asset was marked closed before its closures were acknowledged")
		}
		if got := len(idx.OpenKeys(assetA, KindVulns)); got != 2 {
			t.Fatalf("%d open findings left, want 2", got)
		}
	}
	var handed []Late
	if _, err := x.CloseAssets(ctx, []string{assetA}, closure, func(_ context.Context, l []Late) error { handed = append(handed, l...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(handed) != 2 {
		t.Fatalf("the retry handed over %d closures, want 2", len(handed))
	}
	handed = nil
	if _, err := x.CloseAssets(ctx, []string{assetA}, closure, func(_ context.Context, l []Late) error { handed = append(handed, l...); return nil }); err != nil || len(handed) != 0 {
		t.Fatalf("closing a closed asset again handed over %d closures (%v)", len(handed), err)
	}
}
