<?php
$_['heading_title'] = 'Shopbridge';
$_['text_success'] = 'Shopbridge settings saved.';
$_['error_permission'] = 'You may not change the Shopbridge settings.';
