# The `confirming` order status (R10: a payment whose gateway answer was lost), on top of
# 0004's payment_after_release / refunded.

from django.db import migrations, models


STATUSES = [
    "requires_action",
    "pending_payment",
    "confirming",
    "paid",
    "failed",
    "expired",
    "payment_after_release",
    "refunded",
]


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_customer_gateway_customer"),
        ("checkout", "0004_order_payment_after_release_and_automatic_idempotency"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("requires_action", "Requires action"),
                    ("pending_payment", "Pending payment"),
                    ("confirming", "Confirming payment"),
                    ("paid", "Paid"),
                    ("failed", "Failed"),
                    ("expired", "Expired"),
                    ("payment_after_release", "Payment received, not applied: to be refunded"),
                    ("refunded", "Refunded"),
                ],
                max_length=24,
            ),
        ),
        migrations.RemoveConstraint(model_name="order", name="order_status_known"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", STATUSES)), name="order_status_known"
            ),
        ),
    ]
