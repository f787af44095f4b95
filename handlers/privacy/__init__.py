"""Their data under their control: `/privacy`, `/mydata`, `/forget`."""
