#!/usr/bin/env python3
"""Generates the help desk's own labelled mail for the customer-service scenario.

A spam filter learnt only from the SpamAssassin corpus (2002 mailing lists and
personal mail) has never seen a customer write to a shop's help desk, and
reads orders, refunds and deliveries as commercial. The desk's own labelled
mail fixes that: customers' requests, complaints and thanks, and colleagues'
internal notes ("ham"), beside the spam and phishing the desk receives
("spam"). Each mail is put together from parts chosen with a fixed seed
(subject, greeting, what happened, what is asked, sign-off), so the output is
the same on every run. The sample mails of incoming.jsonl are not among them
and were not used to write them. The file is committed; this script documents
how it was made.

usage: make_desk_mail.py OUTFILE   (writes JSON lines {"id","text","label"})
"""
import json
import random
import sys

# Names only; addresses are made from them at several providers, so that no
# domain marks a mail as ham or spam.
CUSTOMERS = ["Anna Kowalski", "James Okafor", "Lena Fischer", "Carlos Mendes", "Yuki Tanaka",
             "Fatima Haddad", "Oliver Grant", "Sofia Rossi", "Daniel Novak", "Amara Nwosu",
             "Henrik Larsen", "Grace Kim", "Mateo Garcia", "Chloe Martin", "Ravi Iyer",
             "Emma Walsh"]
COLLEAGUES = ["Jonas Weber", "Mei Lin", "Samuel Adeyemi", "Ines Duarte"]
PROVIDERS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "gmx.de", "proton.me",
             "btinternet.com", "orange.fr", "web.de", "hotmail.co.uk"]
STAFF_DOMAIN = "acme-support.test"
PRODUCTS = ["coffee grinder", "desk lamp", "pair of hiking boots", "kettle", "rucksack",
            "set of kitchen knives", "vacuum cleaner", "office chair", "bike helmet",
            "toaster", "phone case", "garden hose", "electric toothbrush", "bookshelf"]
PROBLEMS = ["the handle came off after two days", "it does not switch on at all",
            "one of the parts was missing from the box", "it is the wrong colour",
            "the box was crushed and the item is scratched", "it stopped working after a week",
            "the size is not what the product page said", "it makes a loud rattling noise"]

HAM = {
    "problem": {
        "subjects": ["Problem with my order {o}", "{P} not working", "Faulty {p}",
                     "Order {o}: item damaged", "Complaint about order {o}",
                     "Wrong item in order {o}"],
        "facts": ["I received the {p} from order {o} on {d}, but {x}.",
                  "The {p} I bought from you arrived on {d} and {x}.",
                  "I am writing about order {o}: {x}."],
        "asks": ["Can you send a new one, or should I send it back first?",
                 "I would like a refund, please let me know what to do.",
                 "What are my options? I still have the receipt.",
                 "Please tell me how I can exchange it."],
    },
    "delivery": {
        "subjects": ["Where is my parcel?", "Order {o} not delivered yet", "Delivery question",
                     "Tracking for order {o}", "Late delivery of order {o}"],
        "facts": ["I ordered a {p} on {d} and it still has not arrived.",
                  "The tracking page for order {o} has not changed since {d}.",
                  "My order {o} was due on {d}, but nothing came."],
        "asks": ["Could you check with the courier?", "Can you tell me when it will arrive?",
                 "If it is lost, please send a replacement.",
                 "Please let me know where it is."],
    },
    "billing": {
        "subjects": ["Charged twice for order {o}", "Refund not received", "Billing question",
                     "Receipt for order {o}", "Wrong amount on my statement"],
        "facts": ["My card was charged twice for order {o} on {d}.",
                  "I returned the {p} on {d} but the refund has not reached my account.",
                  "The total for order {o} is higher than the price shown at checkout."],
        "asks": ["Could you look into it and correct the amount?",
                 "Please confirm when the money will be returned.",
                 "Thank you for checking."],
    },
    "account": {
        "subjects": ["Cannot log in", "Password reset email not arriving", "Change my address",
                     "Close my account", "Account question"],
        "facts": ["I cannot sign in to my account since {d}; it says the password is wrong.",
                  "I asked for a password reset three times but no email arrived."],
        "asks": ["Could you help me get back in?", "What should I do?",
                 "Is there a problem on your side?"],
    },
    "thanks": {
        "subjects": ["Re: order {o}", "Thank you", "Re: your reply about the {p}",
                     "Follow-up on my request"],
        "facts": ["The replacement {p} arrived on {d} and works perfectly.",
                  "Thanks for sorting out the refund so quickly.",
                  "I got your message about order {o}, that answers my question.",
                  "Your colleague on the phone was very helpful yesterday."],
        "asks": ["Have a good week.", "I will certainly order again.",
                 "No need to reply.", "Thanks again for your help."],
    },
    "internal": {
        "subjects": ["Rota for next week", "Notes from the team call", "Returns backlog",
                     "Courier issues this week", "Handover for the late shift"],
        "facts": ["I have put the shift plan for next week in the shared folder.",
                  "We agreed to answer open tickets older than two days first.",
                  "There are about {n} returns waiting to be checked in the warehouse.",
                  "The courier has confirmed delays in the north until {d}.",
                  "Two customers are waiting for a call back about order {o}."],
        "asks": ["Tell me if you cannot make your shift.", "Comments welcome before Friday.",
                 "Can someone help out on Thursday afternoon?",
                 "I will update the ticket notes tonight."],
    },
}
HAM_GREETINGS = ["Hello,", "Hi,", "Dear support team,", "Good morning,", "Hi there,"]
HAM_CLOSINGS = ["Kind regards, {f}", "Thanks, {f}", "Best wishes, {f}", "Regards, {f}", "{f}"]
INTERNAL_GREETINGS = ["Hi all,", "Hi team,", "Morning everyone,"]

# Spam comes from throw-away domains and from free-mail accounts alike.
SPAM_SENDERS = [
    ("Security Team", "alert@secure-verify-login.top"), ("Rewards Center", "rewards@win-prize-now.biz"),
    ("Parcel Service", "notice@parcel-fee-pay.info"), ("SEO Experts", "sales@rank-first-seo.co"),
    ("Crypto Desk", "invest@bitprofit-daily.io"), ("Pharmacy Online", "orders@cheap-meds-store.ru"),
    ("Account Service", "service.desk.team@gmail.com"), ("Mark Johnson", "mark.j.offers@outlook.com"),
    ("Customer Care", "care-centre@yahoo.com"), ("Lisa", "lisa.deals@hotmail.co.uk"),
]
SPAM = {
    "phishing": {
        "subjects": ["Your account has been suspended", "Urgent: verify your account",
                     "Unusual sign-in activity detected", "Action required: confirm your details"],
        "bodies": ["We detected unusual activity on your account. Click the link below to "
                   "verify your identity within 24 hours or your account will be closed.",
                   "Your mailbox is almost full and will be deactivated. Log in here to "
                   "confirm your password and keep your messages."],
    },
    "parcel": {
        "subjects": ["Your parcel is on hold", "Delivery failed: customs fee unpaid",
                     "Final notice: package awaiting payment"],
        "bodies": ["Your package could not be delivered because a customs fee of $2.99 is "
                   "unpaid. Pay now with the secure link to release your parcel today.",
                   "We tried to deliver your package. Confirm your card details to "
                   "schedule a new delivery, otherwise it will be returned."],
    },
    "prize": {
        "subjects": ["You are our lucky winner!", "Claim your free gift card now",
                     "Exclusive reward for you"],
        "bodies": ["Congratulations! You have been chosen to receive a $500 gift card. "
                   "Complete the short survey and enter your details to claim it.",
                   "You won! Reply with your name, address and bank account to receive "
                   "your cash prize. Limited time only."],
    },
    "marketing": {
        "subjects": ["Get your website to #1 on Google", "Double your sales in 30 days",
                     "Cheap traffic for your online store"],
        "bodies": ["We guarantee first page rankings for your shop. Our SEO package is 80% "
                   "off this week only. Reply YES to start today.",
                   "Buy 10,000 targeted visitors for only $49. Thousands of satisfied "
                   "clients. Order now, offer ends tonight."],
    },
    "money": {
        "subjects": ["Make $5,000 a week from home", "Bitcoin profits guaranteed",
                     "Pre-approved loan waiting for you"],
        "bodies": ["Our trading robot earns 300% returns. Invest just $250 and watch your "
                   "money grow. Join thousands of happy investors now.",
                   "No credit check! Get up to $20,000 cash today. Click here to apply, "
                   "approval in minutes."],
    },
    "pills": {
        "subjects": ["Best prices on meds online", "Feel 20 years younger",
                     "Miracle supplement - limited stock"],
        "bodies": ["Order the pills doctors do not want you to know about. No prescription "
                   "needed, discreet worldwide shipping.",
                   "Burn fat while you sleep with our all-natural formula. Buy 2 get 1 "
                   "free, money-back guarantee."],
    },
}
SPAM_TAILS = ["", " To stop receiving these emails click unsubscribe.",
              " This is a one-time offer.", " Do not reply to this message."]
DATES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "3 May", "12 June",
         "the 20th", "last week"]


def ham(rng, kind):
    parts = HAM[kind]
    product = rng.choice(PRODUCTS)
    values = {"o": rng.randint(10000, 99999), "p": product, "P": product.capitalize(),
              "d": rng.choice(DATES), "x": rng.choice(PROBLEMS), "n": rng.randint(20, 90)}
    name = rng.choice(COLLEAGUES if kind == "internal" else CUSTOMERS)
    first, last = name.lower().split()
    domain = STAFF_DOMAIN if kind == "internal" else rng.choice(PROVIDERS)
    address = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"])
    address += "@" + domain
    greeting = rng.choice(INTERNAL_GREETINGS if kind == "internal" else HAM_GREETINGS)
    text = rng.choice(parts["facts"]) + " " + rng.choice(parts["asks"])
    closing = rng.choice(HAM_CLOSINGS).format(f=name.split()[0])
    subject = rng.choice(parts["subjects"]).format(**values)
    return (f"Subject: {subject}\nFrom: {name} <{address}>\n\n{greeting}\n\n"
            f"{text.format(**values)}\n\n{closing}")


def spam(rng, kind):
    parts = SPAM[kind]
    name, address = rng.choice(SPAM_SENDERS)
    body = rng.choice(["Dear customer,\n\n", "Hello friend,\n\n", "ATTENTION!\n\n", ""]) + \
        rng.choice(parts["bodies"]) + rng.choice(SPAM_TAILS)
    return f"Subject: {rng.choice(parts['subjects'])}\nFrom: {name} <{address}>\n\n{body}"


def main():
    rng = random.Random(20261203)
    rows = []
    for kind in HAM:
        rows += [(ham(rng, kind), "ham") for _ in range(30)]
    for kind in SPAM:
        rows += [(spam(rng, kind), "spam") for _ in range(10)]
    rng.shuffle(rows)
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        for n, (text, label) in enumerate(rows):
            f.write(json.dumps({"id": f"desk-{n + 1:04d}", "text": text, "label": label}) + "\n")
    print(f"{sys.argv[1]}: {len(rows)} mails")


if __name__ == "__main__":
    main()
