package analysis

// Rollup sets c.Verdict from its errors and checks: error when c.Errors is
// not empty, else fail when a check's verdict is fail or regression, else
// pass. Improvement, inconclusive, no_baseline and incomparable checks do
// not fail a case. A skipped case stays skipped.
func (c *Case) Rollup() {
	if c.Verdict == Skipped {
		return
	}
	switch {
	case len(c.Errors) > 0:
		c.Verdict = Error
	case c.failed():
		c.Verdict = Fail
	default:
		c.Verdict = Pass
	}
}

func (c *Case) failed() bool {
	for _, ck := range c.Checks {
		if ck.Verdict == Fail || ck.Verdict == Regression {
			return true
		}
	}
	return false
}

// Rollup rolls up every case (Case.Rollup) and sets s.Verdict: error when
// a case has verdict error, else fail when one failed, else pass. Skipped
// cases do not change the run's verdict; Incomplete says the run was cut
// short.
func (s *Summary) Rollup() {
	s.Verdict = Pass
	for i := range s.Cases {
		c := &s.Cases[i]
		c.Rollup()
		switch {
		case c.Verdict == Error:
			s.Verdict = Error
		case c.Verdict == Fail && s.Verdict != Error:
			s.Verdict = Fail
		}
	}
}
