from django import forms


class MergeForm(forms.Form):
    other = forms.IntegerField(label="Merge with profile number", min_value=1)
    note = forms.CharField(max_length=300, required=False)


class ReviewForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)
