package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// The summary line names each kind of loss apart: what the capture
// lacked, what a budget gave up, fragments dropped, connections ended
// early (and written), and says nothing of a kind that did not happen.
func TestSummaryKindsOfLoss(t *testing.T) {
	var b strings.Builder
	printSummary(&b, capture.Stats{Packets: 10, FragmentsDropped: 3},
		reassembly.Stats{GapBytes: 1500, BudgetGapBytes: 500, DroppedBytes: 7, Evicted: 2},
		reassembly.DatagramStats{Evicted: 1}, flows.Stats{}, outcome{written: 4}, time.Second)
	got := b.String()
	for _, want := range []string{
		"3 IP fragments dropped",
		"1000 bytes missing from the capture",
		"500 bytes given up to the buffer budgets",
		"7 bytes ignored",
		"3 connections ended early by the connection budget",
		"their records are written",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	b.Reset()
	printSummary(&b, capture.Stats{Packets: 10}, reassembly.Stats{}, reassembly.DatagramStats{}, flows.Stats{}, outcome{written: 4}, time.Second)
	if got := b.String(); strings.Contains(got, ";") {
		t.Errorf("a clean run lists losses: %q", got)
	}
}
