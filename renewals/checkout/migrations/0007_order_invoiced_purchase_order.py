# R9: an order on net terms is `invoiced` until its invoice is paid (never "paid"); R20: the
# customer's purchase-order number. Orders already on main that were invoiced and shown "paid"
# while their invoice is unpaid become `invoiced`.

from django.conf import settings
from django.db import migrations, models


def invoiced_orders_are_invoiced(apps, schema_editor):
    order = apps.get_model("checkout", "Order")
    order.objects.filter(status="paid", payment_method="invoice").exclude(
        invoice__status="paid"
    ).update(status="invoiced", paid_at=None)


def back_to_paid(apps, schema_editor):
    apps.get_model("checkout", "Order").objects.filter(status="invoiced").update(status="paid")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_customer_gateway_customer'),
        ('checkout', '0006_order_line_renewal_change'),
        ('billing', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='order',
            name='order_status_known',
        ),
        migrations.AddField(
            model_name='order',
            name='purchase_order',
            field=models.CharField(blank=True, default='', max_length=60),
        ),
        migrations.AlterField(
            model_name='order',
            name='status',
            field=models.CharField(choices=[('requires_action', 'Requires action'), ('pending_payment', 'Pending payment'), ('confirming', 'Confirming payment'), ('paid', 'Paid'), ('invoiced', 'Invoiced, awaiting payment'), ('failed', 'Failed'), ('expired', 'Expired'), ('payment_after_release', 'Payment received, not applied: to be refunded'), ('refunded', 'Refunded')], max_length=24),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['requires_action', 'pending_payment', 'confirming', 'paid', 'invoiced', 'failed', 'expired', 'payment_after_release', 'refunded'])), name='order_status_known'),
        ),
        migrations.RunPython(invoiced_orders_are_invoiced, back_to_paid),
    ]
