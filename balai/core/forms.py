"""Form helpers: every form that writes carries an idempotency key minted when
it is rendered, so a double submit changes nothing."""

from django import forms

from balai.core.ids import new_id


class IdempotentForm(forms.Form):
    """A form with a hidden idempotency key minted at render time."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=128)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", str(new_id()))
