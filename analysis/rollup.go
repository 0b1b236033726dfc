package analysis

// Rollup sets c.Verdict from its errors, checks and labels: error when
// c.Errors is not empty or a label's effect is error, else fail when a
// check's verdict is fail or regression or a label's effect is fail, else
// pass (labels that warn change nothing). Improvement, inconclusive, no_baseline and incomparable checks do
// not fail a case. A skipped case stays skipped.
func (c *Case) Rollup() {
	if c.Verdict == Skipped {
		return
	}
	switch {
	case len(c.Errors) > 0 || c.labelEffect(EffectError):
		c.Verdict = Error
	case c.failed() || c.labelEffect(EffectFail):
		c.Verdict = Fail
	default:
		c.Verdict = Pass
	}
}

// labelEffect reports whether a label of c has effect e.
func (c *Case) labelEffect(e string) bool {
	for _, l := range c.Labels {
		if l.Effect == e {
			return true
		}
	}
	return false
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
