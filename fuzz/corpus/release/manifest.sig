{"format":"modelgate-signature","key_id":"d8b24ec09004142f","signature":"ctHHeKaIAxIeaQhqK3Hog0eeLsqQ/XDa4CEsS+3BXz/W0ArsR2Q2SdGwxuhmPp5KcffAHIxDvJmDvTdg6eg3CQ==","type":"manifest","version":1}
